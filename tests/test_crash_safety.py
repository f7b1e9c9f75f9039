"""Killing `privacy-course grade` at any point and running it again ends with the same gradebook
as one clean run: no lost, duplicated or half-written grades."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from privacy_course import cohort as cohorts

from .conftest import copy_course
from .grading_helpers import submit_folder
from .learner import answer_key, run_module

pytestmark = pytest.mark.slow
MODULE = "m01-making-the-case"
LEARNERS = [f"learner-{i}" for i in range(6)]


def make_cohort(base: Path, done: Path, partial: Path) -> cohorts.Cohort:
    course = copy_course(base / "course", [MODULE])
    (base / "roster.csv").write_text("id,first_name,last_name,email\n" + "".join(
        f"{n},{n},Learner,{n}@example.org\n" for n in LEARNERS))
    cohort = cohorts.create_cohort(course, "crash", base / "roster.csv")
    for i, name in enumerate(LEARNERS):
        submit_folder(cohort.folder, name, MODULE, done if i % 2 == 0 else partial)
    return cohort


def grade(cohort: cohorts.Cohort, kill_after: float | None = None) -> int:
    process = subprocess.Popen(
        [sys.executable, "-m", "privacy_course.cli", "grade", "--all", "--workers", "2"],
        cwd=cohort.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    if kill_after is None:
        return process.wait(timeout=600)
    time.sleep(kill_after)
    os.killpg(process.pid, signal.SIGKILL)  # the whole run: main process and its workers
    process.wait(timeout=60)
    return -9


def left_running(folder: Path) -> list[str]:
    """Processes still working in a cohort's folders (bwrap names the submission it runs)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(folder) in cmdline and "bwrap" in cmdline:
            found.append(cmdline[:200])
    return found


def gradebook(cohort: cohorts.Cohort) -> dict:
    with cohort.gradebook() as gb:
        rows = {d["student"]: (d["score"], d["max_score"]) for d in gb.submission_dicts(MODULE)}
        grades = sorted((g.student.id, g.name, g.score)
                        for s in gb.assignment_submissions(MODULE)
                        for nb in s.notebooks for g in nb.grades)
    return {"submissions": rows, "grades": grades}


@pytest.mark.parametrize("kill_after", [1.0, 4.0, 8.0])
def test_killed_run_then_rerun_equals_a_clean_run(tmp_path: Path, kill_after: float):
    release = copy_course(tmp_path / "seed", [MODULE]) / "release" / MODULE
    done, partial = tmp_path / "done", tmp_path / "partial"
    shutil.copytree(release, done)
    shutil.copytree(release, partial)
    key = answer_key(tmp_path / "seed" / "source" / MODULE / f"{MODULE}.ipynb")
    run_module(done / f"{MODULE}.ipynb", answers=key)
    wrong = {k: ("a" if v != "a" else "b") for k, v in key.items() if isinstance(v, str)}
    run_module(partial / f"{MODULE}.ipynb", answers={**key, **dict(list(wrong.items())[:2])})

    clean = make_cohort(tmp_path / "clean", done, partial)
    assert grade(clean) == 0
    crashed = make_cohort(tmp_path / "crashed", done, partial)
    grade(crashed, kill_after=kill_after)
    time.sleep(3)
    assert not left_running(crashed.folder), "a killed run left sandboxed kernels behind"
    assert grade(crashed) == 0
    assert gradebook(crashed) == gradebook(clean)
    assert len(gradebook(clean)["submissions"]) == len(LEARNERS)
