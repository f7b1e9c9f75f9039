"""Submitting from the module page, on a laptop, in a real browser: the learner presses
"Submit this module" in the progress panel and reads her score and, for each check, the right
answer and why, on the page itself; the course home then says the module is graded."""

from __future__ import annotations

import pytest

from privacy_course.authoring.build import module_ids

from .browser_helpers import launch
from .learner import answer_key, run_module
from .test_pages import M01, assert_no_code, open_page
from .test_start import TOKEN, get, lab

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_a_laptop_learner_submits_from_the_page_and_reads_her_feedback(course_copy, tmp_path):
    from playwright.sync_api import sync_playwright

    workspace = tmp_path / "learner"
    with lab(course_copy, f"--workspace={workspace}") as base:
        # She worked through m01 earlier (a real kernel, through the widgets), one check wrong.
        folder = workspace / "privacy-course" / M01
        key = answer_key(course_copy / "source" / M01 / f"{M01}.ipynb")
        key["no-news"] = "a" if key["no-news"] != "a" else "b"
        run_module(folder / f"{M01}.ipynb", key)
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page()
            open_page(page, base, M01)
            page.get_by_text("Everything is done.").wait_for(timeout=60_000)
            page.get_by_role("button", name="Submit this module").click()
            page.get_by_text("Your feedback: 5 of 6 points").wait_for(timeout=300_000)
            text = page.locator("body").inner_text()
            assert "Submitted on" in text
            assert "Not right" in text and "The right answer" in text and "Why" in text
            assert_no_code(page)
            page.screenshot(path=str(tmp_path / "feedback.png"), full_page=False)
            page.get_by_role("button", name="Submit again").wait_for()
            browser.close()
        status, home = get(f"{base}/privacy-course/?token={TOKEN}")
        assert status == 200 and "Graded" in home
        assert all(f'data-module="{m}"' in home for m in module_ids(course_copy))
