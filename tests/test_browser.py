"""The learner's JupyterLab in a real browser (headless chromium through Python Playwright):
scenarios and checks answered with the mouse and with the keyboard only are saved at once and
survive a kernel restart, and what the course renders, in Lab and in the facilitator's report,
has no serious or critical axe-core accessibility violations."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from .browser_helpers import (
    MODULE,
    answer_check,
    axe_violations,
    check_output,
    describe,
    graded_cohort,
    launch,
    module_content,
    open_module,
    play_scenario,
    press,
    progress_count,
    progress_panel,
    run_all,
    scenario_output,
    serious,
    shut_down_kernels,
)
from .conftest import copy_course
from .test_start import TOKEN, lab

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def learner_lab(tmp_path_factory) -> Iterator[dict]:
    """One learner's Lab (`privacy-course start`) for every test in this file."""
    folder = tmp_path_factory.mktemp("browser")
    course = copy_course(folder / "course", [MODULE])
    workspace = folder / "learner"
    with lab(course, f"--workspace={workspace}") as base:
        yield {"base": base, "course": course, "folder": workspace / "privacy-course" / MODULE}


@pytest.fixture(scope="module")
def browser() -> Iterator:
    with sync_playwright() as p:
        chromium = launch(p)
        yield chromium
        chromium.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PRIVACY_COURSE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(browser, learner_lab) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()
    shut_down_kernels(learner_lab["base"], TOKEN)


def saved(folder: Path) -> dict:
    return json.loads((folder / f"{MODULE}.responses.json").read_text(encoding="utf-8"))


def test_answers_by_mouse_and_keyboard_are_saved_and_survive_a_restart(page, learner_lab, shots):
    content = module_content(learner_lab["course"])
    open_module(page, learner_lab["base"], TOKEN)
    run_all(page)
    done, total = progress_count(page)
    page.screenshot(path=str(shots / "01-after-run-all.png"))

    # With the mouse.
    play_scenario(page, content, "staff-spreadsheet")
    mouse_radio = answer_check(page, content, "concern-category", "d")
    expect(progress_panel(page)).to_contain_text(
        f"Your progress: {done + 2} of {total} done")
    scenario_output(page, "staff-spreadsheet").screenshot(
        path=str(shots / "02-scenario-finished-by-mouse.png"))

    # With the keyboard only: focus, then Enter on buttons and Space on radio buttons.
    play_scenario(page, content, "never-had-a-breach", act=press("Enter"))
    keyboard_radio = answer_check(page, content, "no-news", "b", act=press("Space"))
    expect(keyboard_radio).to_be_checked()
    expect(progress_panel(page)).to_contain_text(
        f"Your progress: {done + 4} of {total} done")
    check_output(page, content, "no-news").screenshot(
        path=str(shots / "03-check-answered-by-keyboard.png"))

    on_disk = saved(learner_lab["folder"])
    assert on_disk["answers"]["concern-category"] == "d"
    assert on_disk["answers"]["no-news"] == "b"
    for scenario_id in ("staff-spreadsheet", "never-had-a-breach"):
        assert on_disk["scenarios"][scenario_id]["finished"] is True
        assert on_disk["scenarios"][scenario_id]["trail"]
    assert not on_disk["scenarios"].get("vendor-breach-notice", {}).get("finished")

    # Kernel > Restart Kernel and Run All Cells: every answer is drawn again from the file.
    run_all(page, restart=True)
    expect(progress_panel(page)).to_contain_text(
        f"Your progress: {done + 4} of {total} done")
    for radio in (mouse_radio, keyboard_radio):
        expect(radio).to_be_checked()
    for scenario_id in ("staff-spreadsheet", "never-had-a-breach"):
        expect(scenario_output(page, scenario_id).locator(".pc-feedback")) \
            .to_contain_text("Scenario finished.")
    expect(scenario_output(page, "vendor-breach-notice").locator(".pc-feedback")) \
        .to_have_count(0)
    page.screenshot(path=str(shots / "04-after-restart.png"))


def test_module_page_has_no_serious_accessibility_violations(page, learner_lab, shots):
    open_module(page, learner_lab["base"], TOKEN)
    run_all(page)
    content = module_content(learner_lab["course"])
    play_scenario(page, content, "vendor-breach-notice")  # feedback and the finished state too
    violations = axe_violations(page, [(".jp-OutputArea-output", ".pc-box"),
                                       (".jp-RenderedMarkdown", None)])
    page.screenshot(path=str(shots / "05-axe-module.png"))
    assert not serious(violations), describe(serious(violations))


def test_facilitator_report_has_no_serious_accessibility_violations(browser, tmp_path, shots):
    html = graded_cohort(tmp_path)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        tab = context.new_page()
        tab.goto(html.as_uri())
        expect(tab.locator("table").first).to_contain_text("alice")
        violations = axe_violations(tab)
        tab.screenshot(path=str(shots / "06-facilitator-report.png"), full_page=True)
    finally:
        context.close()
    assert not serious(violations), describe(serious(violations))


MARKUP = ("<script>window.__pc=1</script><img src=x onerror=\"window.__pc=2\">"
          "[click](javascript:window.__pc=4) <a href=\"javascript:window.__pc=5\">b</a>")


def test_markup_a_learner_typed_never_runs(browser, tmp_path):
    """Script, event handlers and javascript: links typed into every prompt, into a markdown
    cell and displayed by code: none is live in the work product or in the feedback page."""
    import nbformat

    from privacy_course.facilitator import cohort as cohorts
    from privacy_course.grading import autograde

    from .grading_helpers import submit_folder
    from .learner import answer_key, run_module

    course = copy_course(tmp_path / "course", [MODULE])
    work = tmp_path / "mallory" / MODULE
    shutil.copytree(course / "release" / MODULE, work)
    notebook = work / f"{MODULE}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(MARKUP))
    nb.cells.append(nbformat.v4.new_code_cell(
        f"from IPython.display import HTML, Javascript\ndisplay(HTML({MARKUP!r}))\n"
        "display(Javascript('window.__pc=3'))"))
    nbformat.write(nb, notebook)
    run_module(notebook, answers=answer_key(course / "source" / MODULE / notebook.name),
               text=MARKUP)
    (tmp_path / "roster.csv").write_text("id,first_name,last_name,email\n"
                                         "mallory,Mal,Lory,mal@example.org\n")
    cohort = cohorts.create_cohort(course, "spring", tmp_path / "roster.csv")
    submit_folder(cohort.folder, "mallory", MODULE, work)
    assert autograde.grade(cohort, [MODULE], workers=1, progress=autograde._Quiet())[0].ok
    assert cohorts.feedback(cohort, MODULE) == {"mallory": ""}

    pages = [*work.glob("my-*.html"),
             *(cohort.folder / "feedback" / "mallory" / MODULE).glob("*.html")]
    # The feedback folder holds nbgrader's page and the files handed in, the work product too.
    assert len(pages) == 3 and any(p.name == f"{MODULE}.html" for p in pages), pages
    context = browser.new_context()
    dialogs: list[str] = []
    context.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        for page_file in pages:
            tab = context.new_page()
            tab.goto(page_file.as_uri())
            tab.wait_for_load_state("load")
            tab.wait_for_timeout(500)  # let any image error handler fire
            live = tab.evaluate("""() => ({
                ran: window.__pc ?? null,
                scripts: [...document.scripts].filter(s => s.text.includes('__pc')).length,
                handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes]
                    .some(a => a.name.startsWith('on') && a.value.includes('__pc'))).length,
                links: [...document.querySelectorAll('[href], [src]')].filter(e =>
                    (e.getAttribute('href') || e.getAttribute('src') || '').trim()
                    .toLowerCase().startsWith('javascript:')).length})""")
            assert live == {"ran": None, "scripts": 0, "handlers": 0, "links": 0}, (
                page_file.name, live)
            assert not dialogs
            # What she typed is still there, as text.
            assert "window.__pc=1" in tab.inner_text("body"), page_file.name
    finally:
        context.close()
