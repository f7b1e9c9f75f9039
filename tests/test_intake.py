"""Submissions are untrusted files: intake copies regular files only and refuses, in plain
words, links, hard links, special files, odd names and floods; collect does so on the real
inbound exchange, where learners can plant folders by hand."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from privacy_course.facilitator import cohort as cohorts
from privacy_course.grading.intake import Limits, refusals, safe_copy

from .conftest import copy_course
from .exchange_helpers import fetch, submit

MODULE = "m01-making-the-case"
NB = f"{MODULE}.ipynb"


def test_safe_copy_takes_regular_files_and_refuses_the_rest(tmp_path: Path):
    secret = tmp_path / "outside" / "gradebook.db"
    secret.parent.mkdir()
    secret.write_text("every learner's name")
    src = tmp_path / "submission"
    (src / "data").mkdir(parents=True)
    (src / NB).write_text("{}")
    (src / "data" / "table.csv").write_text("a,b\n")
    (src / "key.ipynb").symlink_to(secret)
    (src / "linked-folder").symlink_to(secret.parent)
    os.mkfifo(src / "pipe")
    os.link(secret, src / "copy.db")
    (src / "odd\nname.txt").write_text("x")
    for i in range(8):
        (src / f"note-{i}.txt").write_text("x")

    dest = tmp_path / "dest"
    refused = safe_copy(src, dest, Limits(files=20, megabytes=1), MODULE)

    taken = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert taken == sorted([NB, "data/table.csv", *(f"note-{i}.txt" for i in range(8))])
    assert not [p for p in dest.rglob("*") if p.is_symlink()]
    text = "\n".join(refused)
    for expected in ("a link (key.ipynb); the link was not followed", "a link (linked-folder)",
                     "a special file (pipe", "a hard link (copy.db)", "an odd name"):
        assert expected in text, (expected, refused)
    assert "every learner's name" not in "".join(p.read_text() for p in dest.rglob("*")
                                                 if p.is_file())


def test_file_count_limit_keeps_the_notebook_and_answers(tmp_path: Path):
    src = tmp_path / "s"
    src.mkdir()
    for i in range(30):
        (src / f"a-{i:02}.txt").write_text("x")
    (src / NB).write_text("{}")
    (src / f"{MODULE}.responses.json").write_text("{}")
    refused = safe_copy(src, tmp_path / "d", Limits(files=5, megabytes=1), MODULE)
    taken = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert NB in taken and f"{MODULE}.responses.json" in taken
    assert len(taken) == 5 and "more than 5 files" in refused[0]


def test_size_limit_keeps_the_notebook(tmp_path: Path):
    src = tmp_path / "s"
    src.mkdir()
    (src / "big.bin").write_bytes(b"0" * (2 * 1024 * 1024))
    (src / NB).write_text("{}")
    refused = safe_copy(src, tmp_path / "d", Limits(files=10, megabytes=1), MODULE)
    assert (tmp_path / "d" / NB).exists() and not (tmp_path / "d" / "big.bin").exists()
    assert "more than 1 MB" in refused[0]


@pytest.mark.slow
def test_collect_refuses_links_planted_in_the_inbound_exchange(tmp_path: Path):
    course = copy_course(tmp_path / "course", [MODULE])
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nmallory,Mal,Lory,m@example.org\n"
                      "alice,Alice,Adams,a@example.org\n")
    cohort = cohorts.create_cohort(course, "spring", roster)
    cohorts.release(cohort, MODULE)
    home = tmp_path / "home"
    fetch(course, "spring", "alice", home / "alice", MODULE)
    submit(course, "spring", "alice", home / "alice", MODULE)

    # By hand, as nbgrader's learner-writable inbound folder allows (jupyter/nbgrader#978):
    # a submission whose notebook is a link to the instructor version, and one whose learner
    # name would put the copy outside submitted/.
    inbound = Path(cohort.config().Exchange.root) / "spring" / "inbound"
    for name in (f"mallory+{MODULE}+2026-12-01 10:00:00.000000 UTC+x",
                 f"..+{MODULE}+2026-12-01 10:00:00.000000 UTC+y"):
        planted = inbound / name
        planted.mkdir()
        (planted / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
        (planted / NB).symlink_to(course / "source" / MODULE / NB)

    collected = cohorts.collect(cohort, MODULE)

    assert collected == ["alice", "mallory"]
    mine = cohort.folder / "submitted" / "mallory" / MODULE
    assert not (mine / NB).exists(), "the instructor notebook was copied"
    assert "a link (m01-making-the-case.ipynb); the link was not followed" in " ".join(
        refusals(cohort.folder, MODULE, "mallory"))
    assert (cohort.folder / "submitted" / "alice" / MODULE / NB).is_file()
    assert not (cohort.folder / MODULE).exists(), "a copy landed outside submitted/"
    assert not refusals(cohort.folder, MODULE, "alice")
