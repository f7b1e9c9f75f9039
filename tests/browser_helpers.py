"""Driving the learner's JupyterLab in a real browser (Python Playwright on Debian's chromium),
running axe-core, and building a small graded cohort: shared by tests/test_browser.py and
scripts/screenshots.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from privacy_course.authoring.content import ModuleContent, content_folder, load_module_content
from privacy_course.authoring.scenario_graph import is_ending, steps_by_id
from privacy_course.learner.widgets import VERDICT_WORDS

MODULE = "m01-making-the-case"
CHROMIUM = os.environ.get("PRIVACY_COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
AXE_CACHE = Path(os.environ.get("PRIVACY_COURSE_AXE_DIR",
                                Path.home() / ".cache" / "privacy-course" / "axe"))
AXE_VERSION = "4"
PROGRESS = re.compile(r"Your progress: (\d+) of (\d+) done")
RUN_TIMEOUT = 180_000  # ms: Run All on a busy two-core machine


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


# -- JupyterLab -----------------------------------------------------------------------------
def menu(page: Any, top: str, item: str) -> None:
    """Choose a menu command, e.g. menu(page, "Run", "Run All Cells")."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}")).first.click()


def wait_idle(page: Any, timeout: int = RUN_TIMEOUT) -> None:
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
        timeout=timeout)


def progress_panel(page: Any) -> Any:
    return page.locator(".jp-OutputArea-output .pc-box", has_text=PROGRESS)


def progress_count(page: Any) -> tuple[int, int]:
    match = PROGRESS.search(progress_panel(page).inner_text())
    assert match, "no progress panel"
    return int(match[1]), int(match[2])


def open_module(page: Any, base: str, token: str, course_id: str = "privacy-course",
                module_id: str = MODULE) -> None:
    """Open a module notebook in the learner's Lab and wait for its kernel."""
    page.goto(f"{base}/lab/tree/{course_id}/{module_id}/{module_id}.ipynb?token={token}")
    page.locator(".jp-Notebook .jp-RenderedMarkdown h1").first.wait_for(timeout=90_000)
    kernel_ready(page)


def kernel_ready(page: Any, timeout: int = 90_000) -> None:
    """The notebook's kernel has started and is idle (status bar: "Python 3 (ipykernel) |
    Idle"; the toolbar's execution indicator says "idle" even before there is a kernel)."""
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\(ipykernel\) \| Idle")
                 ).first.wait_for(timeout=timeout)
    wait_idle(page, timeout)


def run_all(page: Any, restart: bool = False) -> None:
    """Run > Run All Cells (or Kernel > Restart Kernel and Run All Cells, accepting the
    dialog), then wait until every widget, down to the progress panel, is drawn."""
    if restart:
        menu(page, "Kernel", "Restart Kernel and Run All Cells")
        page.locator(".jp-Dialog .jp-mod-accept").click()
        page.locator(".jp-Dialog").wait_for(state="detached")
    else:
        menu(page, "Run", "Run All Cells")
    progress_panel(page).wait_for(state="attached", timeout=RUN_TIMEOUT)
    wait_idle(page)
    progress_panel(page).scroll_into_view_if_needed()


def scenario_output(page: Any, scenario_id: str) -> Any:
    return page.locator(".jp-OutputArea-output").filter(
        has=page.locator(f"#pc-scenario-{scenario_id}"))


def check_output(page: Any, content: ModuleContent, check_id: str) -> Any:
    prompt = content.checks[check_id]["prompt"]
    return page.locator(".jp-OutputArea-output").filter(
        has=page.locator(".pc-box")).filter(has=page.get_by_role("radio")).filter(
        has_text=prompt)


def click(locator: Any) -> None:
    locator.click()


def press(key: str) -> Callable[[Any], None]:
    """Keyboard only: move the focus to the control, then press the key."""
    def act(locator: Any) -> None:
        locator.scroll_into_view_if_needed()
        locator.focus()
        assert locator.evaluate("el => el === document.activeElement")
        locator.page.keyboard.press(key)
    return act


def play_scenario(page: Any, content: ModuleContent, scenario_id: str,
                  act: Callable[[Any], None] = click) -> None:
    """Take the best choice at every step and continue until the scenario is finished,
    checking that each choice's feedback appears."""
    out = scenario_output(page, scenario_id)
    steps = steps_by_id(content.scenarios[scenario_id])
    step_id = content.scenarios[scenario_id]["steps"][0]["id"]
    while not is_ending(steps[step_id]):
        choice = next(c for c in steps[step_id]["choices"] if c["verdict"] == "best")
        act(out.get_by_role("button", name=choice["text"], exact=True))
        feedback = out.locator(".pc-feedback")
        feedback.wait_for()
        text = " ".join(feedback.inner_text().split())
        assert VERDICT_WORDS[choice["verdict"]] in text, text
        assert " ".join(choice["feedback"].split())[:60] in text, text
        label = "Finish the scenario" if is_ending(steps[choice["next"]]) else "Continue"
        act(out.get_by_role("button", name=label, exact=True))
        step_id = choice["next"]
    out.locator(".pc-feedback", has_text="Scenario finished.").wait_for()


def answer_check(page: Any, content: ModuleContent, check_id: str, option_id: str,
                 act: Callable[[Any], None] = click) -> Any:
    """Pick one option of a single-choice check; return the radio button."""
    out = check_output(page, content, check_id)
    text = next(o["text"] for o in content.checks[check_id]["options"] if o["id"] == option_id)
    radio = out.get_by_role("radio", name=text, exact=True)
    act(radio)
    out.get_by_text("Answer saved.").wait_for()
    return radio


def shut_down_kernels(base: str, token: str) -> None:
    """Close every session and kernel of the Lab (between tests)."""
    headers = {"Authorization": f"token {token}"}
    for kind in ("sessions", "kernels"):
        request = urllib.request.Request(f"{base}/api/{kind}", headers=headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            items = json.loads(response.read())
        for item in items:
            urllib.request.urlopen(urllib.request.Request(
                f"{base}/api/{kind}/{item['id']}", headers=headers, method="DELETE"), timeout=30)


def module_content(course: Path, module_id: str = MODULE) -> ModuleContent:
    return load_module_content(content_folder(course / "release" / module_id), module_id,
                               validate=False)


# -- axe-core -------------------------------------------------------------------------------
def axe_source() -> str:
    """axe-core's script, installed with npm into a cache folder outside the repository the
    first time it is needed."""
    script = AXE_CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if not script.is_file():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install axe-core (apt-get install npm)"
        AXE_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([npm, "install", "--prefix", str(AXE_CACHE), "--no-audit", "--no-fund",
                        "--no-save", f"axe-core@{AXE_VERSION}"], check=True,
                       capture_output=True, timeout=300)
    return script.read_text(encoding="utf-8")


AXE_RUN = """async (selectors) => {
  let context = document;
  if (selectors) {
    const nodes = [];
    for (const [selector, inner] of selectors) {
      for (const node of document.querySelectorAll(selector)) {
        if (!inner || node.querySelector(inner)) nodes.push(node);
      }
    }
    if (!nodes.length) throw new Error('axe: nothing to check for ' + JSON.stringify(selectors));
    context = {include: nodes};
  }
  const result = await axe.run(context, {resultTypes: ['violations']});
  return result.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
}"""


def axe_violations(page: Any, selectors: list[tuple[str, str | None]] | None = None
                   ) -> list[dict[str, Any]]:
    """Run axe-core on the page (or on the elements matching `selectors`: pairs of a CSS
    selector and an optional descendant each element must contain)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    return page.evaluate(AXE_RUN, selectors)


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['impact']} {v['id']}: {v['help']}\n  "
                     + "\n  ".join(f"{n['target']}: {n['summary']}" for n in v["nodes"][:5])
                     for v in violations)


# -- a small graded cohort --------------------------------------------------------------------
def graded_cohort(dest: Path, module_id: str = MODULE, mistakes: int = 0) -> Path:
    """A small cohort graded end to end; return the facilitator's HTML report. Alice
    clicked everything right (tests/learner.run_module), the folder went where
    collect puts it, and the cohort was graded with privacy_course.grading.autograde. With
    `mistakes`,
    bea (otherwise on the roster without a submission) hands in that many single-choice
    checks wrong."""
    from privacy_course.facilitator.cohort import create_cohort
    from privacy_course.facilitator.reports import report
    from privacy_course.grading import autograde

    from .conftest import copy_course
    from .grading_helpers import submit_folder
    from .learner import answer_key, run_module

    course = copy_course(dest / "course", [module_id])
    key = answer_key(course / "source" / module_id / f"{module_id}.ipynb")
    learners = {"alice": key}
    if mistakes:
        wrong = [c for c, v in key.items() if isinstance(v, str)][:mistakes]
        learners["bea"] = {**key, **{c: "a" if key[c] != "a" else "b" for c in wrong}}
    roster = dest / "roster.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      "alice,Alice,Adams,alice@district.example.org\n"
                      "bea,Bea,Brooks,bea@district.example.org\n", encoding="utf-8")
    cohort = create_cohort(course, "spring", roster)
    for learner, answers in learners.items():
        work = dest / learner / module_id
        shutil.copytree(course / "release" / module_id, work)
        run_module(work / f"{module_id}.ipynb", answers=answers)
        submit_folder(cohort.folder, learner, module_id, work)
    outcomes = autograde.grade(cohort, [module_id], workers=1, progress=autograde._Quiet())
    assert all(o.ok for o in outcomes) and len(outcomes) == len(learners), outcomes
    return next(p for p in report(cohort, dest / "reports") if p.suffix == ".html")
