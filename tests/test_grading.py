"""What test cells call: right answers give full credit (no output), anything else a quiet 0."""

from __future__ import annotations

import json
from pathlib import Path

from privacy_course.learner import checks as grading
from privacy_course.learner.responses import ResponsesStore

MID = "m99-test"


def saved(tmp_path: Path, **answers) -> Path:
    store = ResponsesStore(MID, tmp_path)
    for key, value in answers.items():
        store.set_answer(key, value)
    return tmp_path


def test_right_answer_returns_none(tmp_path: Path, capsys):
    folder = saved(tmp_path, q1="b", q2=["c", "a"], t="five words are written here")
    assert grading.expect_choice(MID, "q1", "b", folder) is None
    assert grading.expect_choice(MID, "q2", ["a", "c"], folder) is None
    assert grading.expect_text(MID, "t", 5, folder) is None
    assert capsys.readouterr().err == ""


def test_wrong_missing_and_malformed_answers_score_zero_quietly(tmp_path: Path, capsys):
    folder = saved(tmp_path, q1="a", q2=["a"], q3=["b", 1], q4={"x": 1})
    for key, expected in [("q1", "b"), ("q2", ["a", "c"]), ("q3", ["b"]), ("q4", "b"),
                          ("absent", "b")]:
        score = grading.expect_choice(MID, key, expected, folder)
        assert score is not None and float(score) == 0.0
        assert repr(score) == "0.0"  # what nbgrader reads as partial credit
    out = capsys.readouterr()
    assert out.err == ""
    assert "'absent' has not been answered yet" in out.out


def test_corrupt_file_scores_zero_with_reason(tmp_path: Path, capsys):
    (tmp_path / f"{MID}.responses.json").write_text("{not json")
    score = grading.expect_choice(MID, "q1", "b", tmp_path)
    assert float(score) == 0.0
    out = capsys.readouterr()
    assert "damaged" in out.out and out.err == ""
    assert (tmp_path / f"{MID}.responses.json").read_text() == "{not json", "grading never writes"


def test_status_is_zero_until_answered(tmp_path: Path):
    assert float(grading.status(MID, "q1", tmp_path)) == 0.0
    saved(tmp_path, q1="a")
    assert grading.status(MID, "q1", tmp_path) is None


def test_short_text_needs_enough_words(tmp_path: Path):
    folder = saved(tmp_path, t="too short")
    assert float(grading.expect_text(MID, "t", 5, folder)) == 0.0


def test_score_shows_a_sentence_to_the_learner(tmp_path: Path):
    score = grading.status(MID, "q1", tmp_path)
    assert "has not been answered yet" in score._repr_html_()
    assert json.dumps(float(score)) == "0.0"


def test_classification_partial_credit_and_malformed_answers(tmp_path: Path, capsys):
    key = {"r1": "a", "r2": "b", "r3": "c", "r4": "d"}
    folder = saved(tmp_path, x={"r1": "a", "r2": "b", "r3": "x", "r4": 4}, y=["a"])
    score = grading.expect_classification(MID, "x", key, 2, folder)
    assert float(score) == 1.0 and repr(score) == "1.0"
    assert float(grading.expect_classification(MID, "y", key, 2, folder)) == 0.0
    assert float(grading.expect_classification(MID, "absent", key, 2, folder)) == 0.0
    assert capsys.readouterr().err == ""
