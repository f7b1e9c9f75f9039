"""Self-study on one machine: a personal cohort made on first start, a module submitted from
its folder and graded at once in the sandbox, feedback that teaches, and a resubmission.

Real parts throughout: nbgrader's exchange, gradebook, autograde (in the bubblewrap sandbox)
and feedback steps, and a real kernel answering the module as a learner would."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_course.config import load_config
from privacy_course.learner.feedback import teaching_notes
from privacy_course.learner.handin import last_submission, render_feedback
from privacy_course.learner.home import latest_feedback
from privacy_course.selfstudy import PERSONAL_ENV, ensure_personal_cohort, is_personal, submit
from privacy_course.start import prepare_workspace

from .conftest import copy_course
from .learner import answer_key, run_module

M01 = "m01-making-the-case"


@pytest.mark.slow
def test_a_laptop_learner_submits_and_reads_why(tmp_path: Path, monkeypatch) -> None:
    root = copy_course(tmp_path / "course", [M01])
    config = load_config(root)
    cohort = ensure_personal_cohort(root, config, "dana")
    assert is_personal(cohort) and cohort.name == config.CourseDirectory.course_id
    # made once: a second start finds it and releases nothing twice
    assert ensure_personal_cohort(root, config, "dana").folder == cohort.folder
    workspace, env = prepare_workspace(root, tmp_path / "learner", cohort.name, "dana", config)
    folder = workspace / cohort.name / M01
    key = answer_key(root / "source" / M01 / f"{M01}.ipynb")
    wrong = "no-news"
    key[wrong] = "a" if key[wrong] != "a" else "b"
    run_module(folder / f"{M01}.ipynb", key)

    # as the page's kernel runs `privacy-course submit`: in the module folder, with the
    # server's environment (nbgrader also reads a configuration in the working folder)
    monkeypatch.chdir(folder)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", env["JUPYTER_CONFIG_DIR"])
    monkeypatch.setenv(PERSONAL_ENV, str(root))
    result = submit(folder)
    assert result.graded, result.problem
    assert (result.score, result.max_score) == (5.0, 6.0)
    assert not result.resubmission

    page, score, max_score = latest_feedback(folder, M01)
    assert page is not None and (score, max_score) == (5.0, 6.0)
    notes = teaching_notes(page)
    assert len(notes) == 6
    missed = [n for n in notes if not n.right]
    assert len(missed) == 1
    labels = dict(missed[0].parts)
    assert "board member" in missed[0].question
    assert labels["Your answer"] != labels["The right answer"]
    assert labels["Why"] and labels["Source"]
    # the hidden tests never reach the learner, not even in her feedback
    assert "course.expect" not in page.read_text(encoding="utf-8")

    shown = render_feedback(page, score, max_score)
    assert "Your feedback: 5 of 6 points" in shown and "Not right" in shown

    assert last_submission(folder)["graded"] is True  # recorded for the page and the home
    again = submit(folder)
    assert again.resubmission and again.graded


def test_feedback_on_the_page_escapes_what_it_shows(tmp_path: Path) -> None:
    page = tmp_path / "m.html"
    page.write_text(
        "<pre>Not right: Is &lt;b&gt;this&lt;/b&gt; safe?\n"
        "Your answer: \u201c&lt;script&gt;alert(1)&lt;/script&gt;\u201d\n"
        "The right answer: \u201cNo\u201d\nWhy: Because.\nSource: 34 CFR 99.31</pre>"
        "<pre>Right: Second?\nThe right answer: \u201cYes\u201d</pre>", encoding="utf-8")
    notes = teaching_notes(page)
    assert [n.right for n in notes] == [False, True]
    shown = render_feedback(page, 1.0, 2.0)
    assert "<script>" not in shown and "&lt;script&gt;" in shown
    assert "<b>this</b>" not in shown
    assert "Your feedback: 1 of 2 points" in shown


@pytest.mark.slow
def test_a_cohort_learner_hands_in_from_her_folder_and_the_facilitator_collects(
        tmp_path: Path, monkeypatch) -> None:
    """On a hub or with `start --cohort`, submitting only hands the module in: nothing is
    graded on the learner's side, and the facilitator's collect finds it."""
    from privacy_course.facilitator.cohort import collect, create_cohort, release
    from privacy_course.learner.handin import SubmitBox

    root = copy_course(tmp_path / "course", [M01])
    (tmp_path / "roster.csv").write_text("id,first_name,last_name,email\n"
                                         "alice,Alice,Adams,alice@example.org\n")
    cohort = create_cohort(root, "spring", tmp_path / "roster.csv")
    release(cohort, M01)
    workspace, env = prepare_workspace(root, tmp_path / "alice", "spring", "alice")
    folder = workspace / "spring" / M01
    run_module(folder / f"{M01}.ipynb", answer_key(root / "source" / M01 / f"{M01}.ipynb"))
    monkeypatch.chdir(folder)
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", env["JUPYTER_CONFIG_DIR"])
    monkeypatch.delenv(PERSONAL_ENV, raising=False)
    result = submit(folder)
    assert not result.graded and result.problem is None and not result.resubmission
    assert collect(cohort, M01) == ["alice"]
    box = SubmitBox(folder)
    box.show(ready=True)
    assert "Submitted on" in box.message.value
    assert "Your facilitator will return feedback" in box.message.value
    assert box.button.description == "Submit again"
