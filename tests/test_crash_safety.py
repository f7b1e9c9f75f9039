"""Killing `privacy-course grade` at any point and running it again ends with the same gradebook
as one clean run: no lost, duplicated or half-written grades, and no sandboxed process (kernel
launcher, bwrap, kernel) left running.

The kill lands two ways. A test hook in the sandbox launcher kills the run at each named point
of a kernel's start-up, where a fork has happened but the child's death signal is not yet set:
these are the races that once left processes behind, and the hook hits each one every time. A
sweep of kill times across the whole run then covers everything between."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from privacy_course.facilitator import cohort as cohorts
from privacy_course.grading.sandbox import TEST_KILL

from .conftest import copy_course
from .grading_helpers import submit_folder
from .learner import answer_key, run_module

pytestmark = pytest.mark.slow
MODULE = "m01-making-the-case"
LEARNERS = [f"learner-{i}" for i in range(6)]
STAGES = ["launcher-start", "bwrap-exec", "bwrap-started"]
SWEEP = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.5, 8.0]


def make_cohort(base: Path, work: dict[str, Path]) -> cohorts.Cohort:
    course = copy_course(base / "course", [MODULE])
    (base / "roster.csv").write_text("id,first_name,last_name,email\n" + "".join(
        f"{n},{n},Learner,{n}@example.org\n" for n in LEARNERS))
    cohort = cohorts.create_cohort(course, "crash", base / "roster.csv")
    for i, name in enumerate(LEARNERS):
        submit_folder(cohort.folder, name, MODULE, work["done" if i % 2 == 0 else "partial"])
    return cohort


def start_grading(cohort: cohorts.Cohort, scratch: Path, stage: str | None = None
                  ) -> subprocess.Popen:
    # TMPDIR puts the workers' socket and scratch folders (named in the kernels' command lines)
    # under `scratch`, so left_running() can tell this run's processes from anyone else's.
    env = {**os.environ, "TMPDIR": str(scratch)}
    env.pop(TEST_KILL, None)
    if stage:
        env[TEST_KILL] = stage
    return subprocess.Popen(
        [sys.executable, "-m", "privacy_course.cli", "grade", "--all", "--workers", "2"],
        cwd=cohort.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)


def kill_run(process: subprocess.Popen, after: float) -> None:
    time.sleep(after)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # the whole run: main process and its workers
    except ProcessLookupError:
        pass
    process.wait(timeout=60)


def left_running(*folders: Path) -> list[str]:
    """Live processes whose command line or working folder lies in one of `folders`: kernel
    launchers and kernels work in the submission's folder, bwrap names it, and kernels name
    their connection files in the grading worker's scratch folder."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue  # gone, or a zombie
        if any(str(f) in cmdline or cwd.startswith(str(f)) for f in folders):
            found.append(f"pid {entry.name} in {cwd}: {cmdline[:160]}")
    return found


def assert_nothing_left(*folders: Path, within: float = 15.0) -> None:
    """Each process of a killed chain dies on its parent's death signal, one link after
    another: poll until all are gone, bounded, rather than sleep a fixed time."""
    deadline = time.monotonic() + within
    while (found := left_running(*folders)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not found, "a killed run left sandboxed processes behind:\n" + "\n".join(found)


def gradebook(cohort: cohorts.Cohort) -> dict:
    with cohort.gradebook() as gb:
        rows = {d["student"]: (d["score"], d["max_score"]) for d in gb.submission_dicts(MODULE)}
        grades = sorted((g.student.id, g.name, g.score)
                        for s in gb.assignment_submissions(MODULE)
                        for nb in s.notebooks for g in nb.grades)
    return {"submissions": rows, "grades": grades}


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("work")
    release = copy_course(base / "seed", [MODULE]) / "release" / MODULE
    done, partial = base / "done", base / "partial"
    shutil.copytree(release, done)
    shutil.copytree(release, partial)
    key = answer_key(base / "seed" / "source" / MODULE / f"{MODULE}.ipynb")
    run_module(done / f"{MODULE}.ipynb", answers=key)
    wrong = {k: ("a" if v != "a" else "b") for k, v in key.items() if isinstance(v, str)}
    run_module(partial / f"{MODULE}.ipynb", answers={**key, **dict(list(wrong.items())[:2])})
    return {"done": done, "partial": partial}


@pytest.fixture
def scratch() -> Iterator[Path]:
    # Short: ZeroMQ's ipc socket paths must fit in 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="pc-crash-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def clean(work: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    cohort = make_cohort(tmp_path_factory.mktemp("clean"), work)
    folder = Path(tempfile.mkdtemp(prefix="pc-crash-"))
    try:
        assert start_grading(cohort, folder).wait(timeout=600) == 0
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    book = gradebook(cohort)
    assert len(book["submissions"]) == len(LEARNERS)
    return book


@pytest.mark.parametrize("stage", STAGES)
def test_killed_at_each_start_up_race_then_rerun_equals_a_clean_run(
        tmp_path: Path, scratch: Path, work: dict[str, Path], clean: dict, stage: str):
    crashed = make_cohort(tmp_path, work)
    process = start_grading(crashed, scratch, stage)
    process.wait(timeout=300)
    assert process.returncode == -signal.SIGKILL, "the test hook did not kill the run"
    assert_nothing_left(crashed.folder, scratch)
    assert start_grading(crashed, scratch).wait(timeout=600) == 0
    assert gradebook(crashed) == clean


def test_killed_again_and_again_then_rerun_equals_a_clean_run(
        tmp_path: Path, scratch: Path, work: dict[str, Path], clean: dict):
    crashed = make_cohort(tmp_path, work)
    for after in SWEEP:
        kill_run(start_grading(crashed, scratch), after)
        assert_nothing_left(crashed.folder, scratch)
    assert start_grading(crashed, scratch).wait(timeout=600) == 0
    assert gradebook(crashed) == clean
