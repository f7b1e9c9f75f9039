"""The responses store: atomic saves, reload after a restart, and damaged files never lost."""

from __future__ import annotations

import json
from pathlib import Path

from privacy_course.learner.responses import ResponsesStore, read_responses

MID = "m99-test"


def test_saves_and_reloads(tmp_path: Path):
    store = ResponsesStore(MID, tmp_path)
    store.set_answer("q1", "b")
    store.set_scenario("s1", {"trail": [{"step": "start", "choice": "a"}], "finished": True})
    again = ResponsesStore(MID, tmp_path)  # a restarted kernel
    assert again.answer("q1") == "b"
    assert again.scenario("s1")["finished"] is True
    assert again.problem is None
    assert not list(tmp_path.glob(".*.tmp")), "temporary files must not be left behind"


def test_missing_file_is_not_a_problem(tmp_path: Path):
    store = ResponsesStore(MID, tmp_path)
    assert store.problem is None
    assert store.answer("q1") is None


def test_corrupt_file_is_kept_aside_and_learner_told(tmp_path: Path):
    path = tmp_path / f"{MID}.responses.json"
    path.write_text('{"answers": {"q1": "b"', encoding="utf-8")
    store = ResponsesStore(MID, tmp_path)
    assert store.problem and "damaged" in store.problem
    kept = list(tmp_path.glob(f"{MID}.responses.json.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_text() == '{"answers": {"q1": "b"'
    store.set_answer("q2", "a")  # the learner carries on; the new answer is saved afresh
    assert json.loads(path.read_text())["answers"] == {"q2": "a"}


def test_empty_and_foreign_files_read_as_empty_with_a_reason(tmp_path: Path):
    path = tmp_path / f"{MID}.responses.json"
    path.write_text("")
    assert "empty" in read_responses(path, MID).problem
    path.write_text(json.dumps({"module": "m42-other", "answers": {}, "scenarios": {}}))
    assert "m42-other" in read_responses(path, MID).problem
    path.write_text("[1, 2]")
    assert read_responses(path, MID).data["answers"] == {}


def test_unwritable_folder_keeps_answers_in_memory(tmp_path: Path):
    store = ResponsesStore(MID, tmp_path / "missing" / "deeper")
    store.path = tmp_path / "a-file"
    (tmp_path / "a-file").mkdir()  # a folder where the file should be: the rename fails
    store.set_answer("q1", "c")
    assert store.answer("q1") == "c"
    assert store.save_error and "could not be saved" in store.save_error
