"""The learner's pages in a real browser, as a learner who never touches a menu: the course
home, module pages that run themselves (Voila), answers that survive closing the tab and
restarting the server, m06 done with controls, and axe-core on the home and all eight pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy_course.authoring.build import module_ids

from .browser_helpers import axe_violations, describe, launch, serious
from .test_start import TOKEN, get, lab

pytestmark = [pytest.mark.slow, pytest.mark.browser]
M01 = "m01-making-the-case"
M06 = "m06-deidentification"


def page_url(base: str, module_id: str) -> str:
    return (f"{base}/voila/render/privacy-course/{module_id}/{module_id}.ipynb"
            f"?token={TOKEN}")


def open_page(page, base: str, module_id: str) -> None:
    page.goto(page_url(base, module_id))
    page.locator(".pc-box").first.wait_for(timeout=90_000)
    page.get_by_text("Your progress:").wait_for(timeout=90_000)


def assert_no_code(page) -> None:
    """Nothing of the machinery is on the page: no code, no prompts, no error."""
    assert page.locator(".jp-InputArea-editor:visible, .jp-InputPrompt:visible").count() == 0
    text = page.locator("body").inner_text()
    for machinery in ("course.", "open_module", "Traceback", "NameError", "In [", ".yaml"):
        assert machinery not in text, machinery


def saved(workspace: Path, module_id: str) -> dict:
    path = workspace / "privacy-course" / module_id / f"{module_id}.responses.json"
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def test_home_and_m01_by_mouse_and_keyboard_survive_a_server_restart(browser, course_copy,
                                                                       tmp_path):
    workspace = tmp_path / "learner"
    with lab(course_copy, f"--workspace={workspace}") as base:
        status, home = get(f"{base}/privacy-course/?token={TOKEN}")
        assert status == 200
        for module_id in module_ids(course_copy):
            assert f'data-module="{module_id}"' in home
        page = browser.new_page()
        outside: list[str] = []  # offline: no asset from a CDN (MathJax, icon fonts)
        page.on("request", lambda request: outside.append(request.url)
                if not request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:"))
                else None)
        page.goto(f"{base}/?token={TOKEN}")  # the server's default URL is the course home
        page.get_by_role("link", name="Module 1:", exact=False).click()
        page.locator(".pc-box").first.wait_for(timeout=90_000)
        page.get_by_text("Your progress:").wait_for(timeout=90_000)
        assert_no_code(page)
        page.keyboard.press("Tab")  # the first Tab stop is the page's first control
        assert page.evaluate("() => document.activeElement.textContent") == "Course home"
        # a scenario by mouse: the feedback appears and takes the focus
        first = page.locator(".pc-choice").first
        first.click()
        page.locator(".pc-feedback").first.wait_for()
        page.wait_for_function(
            "() => !!document.activeElement.closest('.pc-focus-target')", timeout=10_000)
        # a check by keyboard only
        radio = page.get_by_role("radio").first
        radio.focus()
        page.keyboard.press("Space")
        page.get_by_text("Answer saved.").first.wait_for()
        page.wait_for_timeout(500)
        answers = saved(workspace, M01)
        assert answers["scenarios"] and answers["answers"]
        assert outside == []
        page.close()
    with lab(course_copy, f"--workspace={workspace}") as base:  # the server restarted
        page = browser.new_page()
        open_page(page, base, M01)
        assert page.locator(".pc-feedback").count() >= 1  # the scenario resumes
        assert page.get_by_text("Answer saved.").count() >= 1
        assert page.locator(".jp-OutputArea-output .fa-exclamation-triangle").count() == 0
        assert_no_code(page)
        status, home = get(f"{base}/privacy-course/?token={TOKEN}")
        assert "In progress" in home, home[home.find("<table"):home.find("</table>")]
        page.close()


def test_m06_with_controls_only_and_a_wrong_entry(browser, course_copy, tmp_path):
    workspace = tmp_path / "learner"
    with lab(course_copy, f"--workspace={workspace}") as base:
        page = browser.new_page()
        open_page(page, base, M06)
        assert_no_code(page)
        for column in ("student_id", "first_name", "last_name", "street_address", "sex"):
            page.get_by_role("checkbox", name=column, exact=True).check()
        page.get_by_label("Birth date", exact=True).select_option(label="Leave it out")
        page.get_by_label("ZIP code", exact=True).select_option(label="Leave it out")
        size = page.get_by_label("Minimum cell size for the table", exact=True)
        size.fill("ten")
        size.press("Enter")
        page.get_by_text("must be a whole number from 1 to 30").wait_for()
        assert page.get_by_text("Checks (graded after you submit)").is_visible()  # intact
        size.fill("10")
        size.press("Enter")
        page.get_by_text("must be a whole number").wait_for(state="detached")
        page.wait_for_function(
            "() => (document.body.innerText.match(/Passed:/g) || []).length === 5",
            timeout=30_000)
        settings = saved(workspace, M06)["answers"]["release-settings"]
        assert settings["min_cell"] == 10 and settings["zip"] == "drop"
        page.close()


def test_home_and_every_module_page_have_no_serious_accessibility_issue(browser, course_copy,
                                                                           tmp_path):
    with lab(course_copy, f"--workspace={tmp_path / 'learner'}") as base:
        page = browser.new_page()
        page.goto(f"{base}/privacy-course/?token={TOKEN}")
        found = serious(axe_violations(page))
        assert not found, "course home:\n" + describe(found)
        for module_id in module_ids(course_copy):
            open_page(page, base, module_id)
            found = serious(axe_violations(page))
            assert not found, f"{module_id}:\n" + describe(found)
        page.close()
