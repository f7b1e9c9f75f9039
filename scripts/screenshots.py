"""Take the README's screenshots in headless chromium (Python Playwright, Debian's chromium):

- docs/learner-view.png: the learner's JupyterLab (`privacy-course start` on a scratch
  workspace) after Run All on module 1, with one scenario choice and one check answered;
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
    answer_check,
    click,
    graded_cohort,
    launch,
    module_content,
    open_module,
    run_all,
    scenario_output,
)
from tests.conftest import copy_course  # noqa: E402
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


def learner_view(browser, scratch: Path, out: Path) -> Path:
    course = copy_course(scratch / "course", [MODULE])
    content = module_content(course)
    with lab(course, f"--workspace={scratch / 'learner'}") as base:
        page = browser.new_page(viewport=VIEWPORT)
        open_module(page, base, TOKEN)
        page.keyboard.press("Control+b")  # hide the file browser: more room for the module
        run_all(page)
        scenario = content.scenarios["staff-spreadsheet"]
        best = next(c for c in scenario["steps"][0]["choices"] if c["verdict"] == "best")
        output = scenario_output(page, "staff-spreadsheet")
        click(output.get_by_role("button", name=best["text"], exact=True))
        output.locator(".pc-feedback").wait_for()
        answer_check(page, content, "concern-category", "d")
        output.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.mouse.move(0, 0)
        page.wait_for_timeout(500)
        path = save(page, out / "learner-view.png")
        page.close()
    return path


def facilitator_report(browser, scratch: Path, out: Path) -> Path:
    html = graded_cohort(scratch / "cohort", mistakes=2)
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(html.as_uri())
    path = save(page, out / "facilitator-report.png", full_page=True)
    page.close()
    return path


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="privacy-course-shots-") as tmp, \
            sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for path in (learner_view(browser, Path(tmp) / "lab", out),
                         facilitator_report(browser, Path(tmp), out)):
                print(f"{path} ({path.stat().st_size // 1024} KB)")
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
