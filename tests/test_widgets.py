"""The widgets, driven through their own Python API (what the browser does over the widget
protocol): every input is saved, and a restarted kernel shows it again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from privacy_course import open_module
from privacy_course.learner.responses import read_responses
from privacy_course.learner.widgets import progress_summary

from .test_content import CHECK, SCENARIO

MID = "m99-test"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch) -> Path:
    scenario2 = yaml.safe_load(yaml.safe_dump(SCENARIO))
    scenario2["id"] = "s2"
    scenario2["steps"].append({
        "id": "follow-up", "situation": "The vendor pushes back.", "question": "Then?",
        "choices": [
            {"id": "x", "text": "Hold firm", "verdict": "best", "feedback": "Good.",
             "cite": "PTAC 2014", "next": "end"},
            {"id": "y", "text": "Give in", "verdict": "risky", "feedback": "No.",
             "cite": "PTAC 2014", "next": "follow-up"},
        ]})
    scenario2["steps"][0]["choices"][0]["next"] = "follow-up"
    (tmp_path / "scenarios.yaml").write_text(yaml.safe_dump({"scenarios": [SCENARIO, scenario2]}))
    multi = {**CHECK, "id": "q2", "kind": "multiple",
             "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"},
                         {"id": "c", "text": "C"}]}
    (tmp_path / "checks.yaml").write_text(yaml.safe_dump({"checks": [CHECK, multi]}))
    (tmp_path / "prompts.yaml").write_text(yaml.safe_dump({"prompts": [
        {"id": "ask", "kind": "text", "label": "Your ask"},
        {"id": "done", "kind": "checklist", "label": "Done already",
         "items": [{"id": "i1", "text": "Inventory"}, {"id": "i2", "text": "Training"}]},
        {"id": "decision", "kind": "choice", "label": "Your decision",
         "items": [{"id": "adopt", "text": "Adopt"}, {"id": "decline", "text": "Decline"}]},
    ]}))
    (tmp_path / "exercises.yaml").write_text(yaml.safe_dump({"exercises": [
        {"id": "sort", "kind": "classify", "label": "Policy or procedure?",
         "categories": [{"id": "policy", "text": "Policy"},
                        {"id": "procedure", "text": "Procedure"}],
         "items": [{"id": "r1", "text": "Staff use approved apps only."},
                   {"id": "r2", "text": "Submit the request form; the DPO replies in 10 days."}]},
    ]}))
    (tmp_path / "template.md").write_text(
        "---\ntitle: Brief\ncurrent_as_of: December 2026\ndisclaimer: Not legal advice.\n"
        "sources: [PTAC 2014]\n---\n{ask}\n\n{done}\n\n{decision}\n\n{unknown-key}\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def saved(folder: Path) -> dict:
    return read_responses(folder / f"{MID}.responses.json", MID).data


def pick(widget, text: str) -> None:
    """Click the choice button with this text (choices are shown in the learner's order)."""
    next(b for b in widget.choice_buttons if b.description == text).click()


def test_scenario_branches_and_resumes_after_restart(folder: Path):
    course = open_module(MID)
    widget = course.scenario("s2")
    assert sorted(b.description for b in widget.choice_buttons) == ["Check the contract",
                                                                      "Send it"]
    pick(widget, "Check the contract")
    assert widget.choice_buttons == [] and widget.continue_button is not None
    assert "Yes." in widget.children[3].value  # reason shown with its citation
    assert "34 CFR 99.31(a)(1)" in widget.children[3].value
    widget.continue_button.click()
    assert widget.current_step["id"] == "follow-up"
    assert not widget.finished

    restarted = open_module(MID).scenario("s2")  # new kernel, same folder
    assert restarted.current_step["id"] == "follow-up"
    pick(restarted, "Give in")  # risky: loops back to the same step after Continue
    restarted.continue_button.click()
    assert restarted.current_step["id"] == "follow-up"
    pick(restarted, "Hold firm")
    assert restarted.finished
    restarted.continue_button.click()
    assert restarted.restart_button is not None
    trail = saved(folder)["scenarios"]["s2"]["trail"]
    assert [t["choice"] for t in trail] == ["a", "y", "x"]
    restarted.restart_button.click()  # replaying keeps the scenario finished
    assert saved(folder)["scenarios"]["s2"]["finished"] is True
    assert restarted.current_step["id"] == "start"


def test_checks_save_and_restore(folder: Path):
    course = open_module(MID)
    single = course.check("q1")
    radio = single.controls[0]
    assert radio.value is None and radio.description == "Your answer"
    radio.value = "b"
    multi = course.check("q2")
    boxes = {c.option_id: c for c in multi.controls if hasattr(c, "option_id")}
    boxes["a"].value = True
    boxes["c"].value = True
    assert saved(folder)["answers"] == {"q1": "b", "q2": ["a", "c"]}

    again = open_module(MID)
    assert again.check("q1").controls[0].value == "b"
    assert {c.option_id: c.value for c in again.check("q2").controls
            if hasattr(c, "option_id")} == {"a": True, "b": False, "c": True}


def test_every_control_is_labelled(folder: Path):
    course = open_module(MID)
    for widget in (course.check("q1"), course.check("q2"), course.prompt("ask"),
                   course.prompt("done"), course.prompt("decision")):
        for control in widget.controls:
            if hasattr(control, "description"):
                assert control.description.strip(), control
    for button in course.scenario("s1").choice_buttons:
        assert button.description and button.tooltip


def test_prompts_feed_the_work_product_and_progress(folder: Path):
    course = open_module(MID)
    panel = course.progress()
    assert "0 of" in panel.panel.value
    course.prompt("ask").controls[0].value = "Fund a privacy lead."
    course.prompt("done").controls[1].value = True
    choice = course.prompt("decision")
    assert choice.controls[0].value is None
    choice.controls[0].value = "decline"
    assert open_module(MID).prompt("decision").controls[0].value == "decline"
    result = course.work_product("template.md", "my-brief")  # every prompt answered: written
    text = (folder / "my-brief.html").read_text()
    assert "Fund a privacy lead." in text and "Training" in text and "Decline" in text
    assert "{unknown-key}" in text  # unknown placeholders are left visible, not an error
    assert text.startswith("<!doctype html>")
    assert (folder / "my-brief.docx").is_file() and (folder / "my-brief.pdf").is_file()
    assert 'download="my-brief.docx"' in result.downloads.value
    # Live: a later answer rewrites the file and the preview, with nothing re-run.
    course.prompt("ask").controls[0].value = "Fund a privacy lead and a review."
    assert "and a review." in (folder / "my-brief.html").read_text()
    assert "and a review." in result.preview.value
    assert "Your document: your brief" in progress_summary(course.content, course.store,
                                                         "my-brief")["done"]


def test_progress_lists_what_is_missing(folder: Path):
    course = open_module(MID)
    panel = course.progress()
    assert "Scenario: A vendor asks" in panel.panel.value
    scenario = course.scenario("s1")
    pick(scenario, "Check the contract")
    assert "1 of" in panel.panel.value  # redrawn on every save


def test_damaged_file_is_reported_in_plain_words(folder: Path):
    (folder / f"{MID}.responses.json").write_text("{oops")
    course = open_module(MID)
    assert "damaged" in repr(course)
    assert "damaged" in course.progress().panel.value
    course.check("q1").controls[0].value = "a"
    assert saved(folder)["answers"] == {"q1": "a"}


def test_unknown_widget_id_names_the_module(folder: Path):
    with pytest.raises(KeyError, match="m99-test: no check 'nope'"):
        open_module(MID).check("nope")


def test_classification_exercise_saves_restores_and_tabulates(folder: Path):
    course = open_module(MID)
    widget = course.exercise("sort")
    menus = widget.controls
    assert [m.description for m in menus] == ["Item 1", "Item 2"]
    assert all(m.value == "" for m in menus)
    assert float(course.status("sort")) == 0.0
    assert list(course.answers_frame("sort")["answer"]) == ["(not answered)"] * 2
    menus[0].value = "policy"
    assert "1 of 2 parts answered" in course.status("sort").message
    menus[1].value = "policy"
    assert course.status("sort") is None
    assert float(course.expect_classification("sort", {"r1": "policy", "r2": "procedure"},
                                              points=4)) == 2.0
    again = open_module(MID)
    assert [m.value for m in again.exercise("sort").controls] == ["policy", "policy"]
    assert list(open_module(MID).answers_frame("sort")["answer"]) == ["Policy", "Policy"]
    frame = again.answers_frame("sort")
    assert list(frame["answer"]) == ["Policy", "Policy"]
    again.exercise("sort").controls[1].value = "procedure"
    assert again.expect_classification("sort", {"r1": "policy", "r2": "procedure"}, 4) is None


def test_answer_tables_list_and_count_without_pandas(folder: Path):
    """The tables modules show learners (their answers, listed or counted) need no pandas,
    which adds about a third to a fresh kernel's start-up."""
    exercises = yaml.safe_load((folder / "exercises.yaml").read_text())
    twin = dict(exercises["exercises"][0], id="sort-b", label="Agreement B: same items?")
    other = dict(exercises["exercises"][0], id="other", items=[{"id": "x", "text": "Else"}])
    exercises["exercises"] += [twin, other]
    (folder / "exercises.yaml").write_text(yaml.safe_dump(exercises))
    course = open_module(MID)
    course.exercise("sort").controls[0].value = "procedure"
    course.exercise("sort-b").controls[1].value = "policy"

    listed = course.answers_table("sort")
    assert listed.columns == ["Item", "Your answer"]
    assert listed.column("Your answer") == ["Procedure", "(not answered)"]
    html = listed._repr_html_()
    assert "<caption" in html and "<th scope='col'" in html and "Staff use approved" in html

    side_by_side = course.answers_table("sort", "sort-b")
    assert side_by_side.columns == ["Item", "Policy or procedure?", "Agreement B"]
    assert side_by_side.rows[1][1:] == ["(not answered)", "Policy"]
    with pytest.raises(ValueError, match="'other' does not have the same items as 'sort'"):
        course.answers_table("sort", "other")

    counts = course.answer_counts("sort")
    assert counts.rows == [["Policy", 0], ["Procedure", 1], ["(not answered)", 1]]
    assert "Procedure" in repr(counts)
    course.exercise("sort").controls[1].value = "policy"
    assert open_module(MID).answer_counts("sort").rows == [["Policy", 1], ["Procedure", 1]]
    with pytest.raises(KeyError, match="m99-test: no exercise 'nope'"):
        course.answer_counts("nope")
