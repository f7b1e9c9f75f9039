"""Take the README's screenshots in headless chromium (Python Playwright, Debian's chromium):

- docs/course-home.png: the course home that `privacy-course start` opens (a scratch
  workspace), with module 1 in progress;
- docs/learner-view.png: module 1's page, with one scenario choice made and its feedback shown;
- docs/facilitator-report.png: the facilitator's HTML report for a small graded cohort
  (two learners, one with two checks wrong).

    python scripts/screenshots.py [OUT_DIR]      # default: docs/

Needs the test extras (`pip install -e '.[test]'`) and chromium (`apt-get install chromium`).
Everything is built in a temporary folder; the course folder itself is not touched.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser_helpers import (  # noqa: E402
    MODULE,
    graded_cohort,
    launch,
    module_content,
)
from tests.conftest import copy_course  # noqa: E402
from tests.test_pages import open_page  # noqa: E402
from tests.test_start import TOKEN, lab  # noqa: E402

VIEWPORT = {"width": 1200, "height": 800}
MAX_BYTES = 250_000


def save(page_or_locator, path: Path, **options) -> Path:
    """A PNG, or a JPEG beside it when the PNG would be over MAX_BYTES."""
    data = page_or_locator.screenshot(type="png", **options)
    if len(data) > MAX_BYTES:
        path = path.with_suffix(".jpg")
        data = page_or_locator.screenshot(type="jpeg", quality=80, **options)
    path.write_bytes(data)
    return path


def learner_pages(browser, scratch: Path, out: Path) -> list[Path]:
    """The course home and module 1's page, as a learner sees them (no JupyterLab)."""
    course = copy_course(scratch / "course", [MODULE])
    content = module_content(course)
    with lab(course, f"--workspace={scratch / 'learner'}") as base:
        page = browser.new_page(viewport=VIEWPORT)
        open_page(page, base, MODULE)
        scenario = content.scenarios["staff-spreadsheet"]
        best = next(c for c in scenario["steps"][0]["choices"] if c["verdict"] == "best")
        page.get_by_role("button", name=best["text"], exact=True).click()
        feedback = page.locator(".pc-feedback").first
        feedback.wait_for()
        page.get_by_text("Scenario:", exact=False).first.evaluate(
            "el => el.scrollIntoView({block: 'start'})")
        page.mouse.move(0, 0)
        page.wait_for_timeout(500)
        view = save(page, out / "learner-view.png")
        page.goto(f"{base}/privacy-course/?token={TOKEN}")
        page.get_by_text("In progress").first.wait_for()
        home = save(page, out / "course-home.png", full_page=True)
        page.close()
    return [home, view]


def facilitator_report(browser, scratch: Path, out: Path) -> Path:
    html = graded_cohort(scratch / "cohort", mistakes=2)
    # The top of the report (the heatmap, the table, the checks learners miss): the whole page
    # with its item analysis is several screens long, too large an image for the README.
    page = browser.new_page(viewport={"width": 1200, "height": 1400})
    page.goto(html.as_uri())
    path = save(page, out / "facilitator-report.png")
    page.close()
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="privacy-course-shots-") as tmp, \
            sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for path in (*learner_pages(browser, Path(tmp) / "pages", out),
                         facilitator_report(browser, Path(tmp), out)):
                print(f"{path} ({path.stat().st_size // 1024} KB)")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
