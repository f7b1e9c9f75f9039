"""What grading records: typed flags, read back as the same sentences; failures classified by the
exceptions raised, never by words in a log or a learner's text; folders where the one
configuration puts them; transient failures retried a bounded number of times; a dead worker
costs only its own submission."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy_course.facilitator import cohort as cohorts
from privacy_course.facilitator.completion import COMPLETE, completion
from privacy_course.grading import autograde
from privacy_course.grading.sandbox import limit_flag
from privacy_course.record import Flag, SubmissionRecord, failure_flag, load_record

from .conftest import copy_course
from .exchange_helpers import fetch, submit
from .learner import answer_key, run_module

MODULE = "m01-making-the-case"
ROSTER = ("id,first_name,last_name,email\n"
          "alice,Alice,Adams,alice@district.example.org\n"
          "bob,Bob,Brown,bob@district.example.org\n")
# A briefing that talks about the very words the old text scan looked for.
TRICKY = ("Our vendor's log showed MemoryError and 'File too large', then 'No space left on "
          "device' and a CellTimeoutError; nbformat and ValidationError were mentioned too.")


def test_a_flag_is_stored_as_its_code_and_read_back_as_the_same_sentence():
    flag = Flag("cell-edited", kind="test cell", grade_id="check-no-news")
    assert flag == "test cell check-no-news was edited" and flag.code == "cell-edited"
    again = Flag.from_json(json.loads(json.dumps(flag.to_json())))
    assert again == flag and again.code == "cell-edited" and again.params == flag.params
    old = Flag.from_json("a sentence recorded before flags had codes")
    assert old == "a sentence recorded before flags had codes" and old.code == "note"
    record = SubmissionRecord.from_json({"problem": "the notebook file is damaged",
                                         "notes": ["x was edited"], "graded": False})
    assert record.problem == "the notebook file is damaged" and record.flags == ["x was edited"]


def test_failures_are_named_by_the_exception_raised_not_by_words_in_the_log():
    log = ("[ERROR] There was an error processing assignment\n"
           "    Traceback (most recent call last):\n"
           "      File \"client.py\", line 1009, in async_execute_cell\n"
           "        raise DeadKernelError(\"Kernel died\") from None\n"
           "    nbclient.exceptions.DeadKernelError: Kernel died\n"
           "[ERROR] Please see the above traceback\n")
    assert failure_flag(log).code == "kernel-died"
    wordy = "[ERROR] the nbformat package said: MemoryError and a JSONDecodeError are words\n"
    assert failure_flag(wordy).code == "grading-failed"
    assert failure_flag("").code == "unknown-failure"


def test_limits_are_named_by_exception_and_errno():
    assert limit_flag("MemoryError", "").code == "memory-limit"
    assert limit_flag("CellTimeoutError", "").code == "time-limit"
    assert limit_flag("OSError", "[Errno 27] File too large").code == "file-size-limit"
    assert limit_flag("OSError", "[Errno 28] No space left on device").code == "write-quota"
    assert limit_flag("BlockingIOError", "[Errno 11] Resource temporarily unavailable"
                      ).code == "process-limit"
    assert limit_flag("OSError", "[Errno 2] No such file or directory") is None
    assert limit_flag("NameError", "name 'MemoryError' is not defined") is None


MOVED = """
# This cohort's folders have other names than nbgrader's defaults.
c.CourseDirectory.submitted_directory = "handed-in"
c.CourseDirectory.autograded_directory = "scored"
"""


@pytest.mark.slow
def test_grading_follows_the_configuration_and_retries_only_what_may_pass(
        tmp_path: Path, monkeypatch):
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    course = copy_course(tmp_path / "course", [MODULE])
    with (course / "grader_config.py").open("a", encoding="utf-8") as fh:
        fh.write(MOVED)
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    cohort = cohorts.create_cohort(course, "moved", tmp_path / "roster.csv")
    cohorts.release(cohort, MODULE)
    key = answer_key(course / "source" / MODULE / f"{MODULE}.ipynb")
    for name in ("alice", "bob"):
        home = tmp_path / "home" / name
        run_module(fetch(course, "moved", name, home, MODULE) / f"{MODULE}.ipynb",
                   answers=key, text=TRICKY)
        submit(course, "moved", name, home, MODULE)
    assert cohorts.collect(cohort, MODULE) == ["alice", "bob"]
    assert (cohort.folder / "handed-in" / "alice" / MODULE).is_dir()
    assert not (cohort.folder / "submitted").exists()

    # bob's grading worker dies outright, every time: alice is graded all the same.
    monkeypatch.setenv(autograde.KILL_WORKER_ENV, "bob")
    outcomes = {o.learner: o for o in autograde.grade(cohort, [MODULE], workers=2,
                                                      progress=autograde._Quiet())}
    assert outcomes["alice"].ok and not outcomes["alice"].notes  # no flag from her words
    assert not outcomes["bob"].ok and outcomes["bob"].problem.code == "worker-died"
    graded = json.loads((cohort.folder / "scored" / "alice" / MODULE / f"{MODULE}.ipynb")
                        .read_text(encoding="utf-8"))
    errors = [(c.get("id"), o.get("ename")) for c in graded["cells"] if c["cell_type"] == "code"
              for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []  # her notebook really ran in the sandboxed kernel, package and all
    rows = {r.id: r for r in completion(cohort)}
    assert rows["alice"].results[MODULE].state == COMPLETE
    assert rows["alice"].results[MODULE].flags == []

    # A failure that may pass is tried again on each new-work round, RETRIES times in all;
    # alice, graded and current, is never graded again.
    tries = [autograde.tasks_for(cohort, [MODULE], only_new=True)]
    for _ in range(autograde.RETRIES - 1):
        autograde.grade(cohort, [MODULE], workers=1, only_new=True,
                        progress=autograde._Quiet())
        tries.append(autograde.tasks_for(cohort, [MODULE], only_new=True))
    assert tries[:-1] == [[(MODULE, "bob")]] * (autograde.RETRIES - 1) and tries[-1] == []
    assert load_record(cohort.folder)[MODULE]["bob"].failures == autograde.RETRIES
    monkeypatch.delenv(autograde.KILL_WORKER_ENV)
    # bob hands in again: a new submission is graded at once.
    home = tmp_path / "home" / "bob"
    submit(course, "moved", "bob", home, MODULE)
    cohorts.collect(cohort, MODULE)
    assert autograde.tasks_for(cohort, [MODULE], only_new=True) == [(MODULE, "bob")]
    assert [o.ok for o in autograde.grade(cohort, [MODULE], workers=1, only_new=True,
                                          progress=autograde._Quiet())] == [True]
