"""Item analysis on a cohort of simulated learners whose choices are known.

Twenty strong learners answer by the true key; twenty weak ones pick planted wrong answers (a
distractor strong learners avoid). In this copy of the course one check is keyed wrong on
purpose. Each learner's responses file is scored by the grader's own code (the trusted
re-scoring preprocessor, then nbgrader's `determine_grade`) and the scores go into the cohort's
real nbgrader gradebook, so the analysis reads what a graded cohort holds. Scenario trails are
planted too, in the responses format before endings were recorded and in the one after.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from nbgrader.utils import determine_grade

from privacy_course.facilitator import cohort as cohorts
from privacy_course.facilitator import item_report, items
from privacy_course.facilitator.reports import suppressed
from privacy_course.grading.trusted import ScoreFromResponses
from privacy_course.learner.responses import atomic_write_json

from .conftest import ROOT, copy_course
from .learner import answer_key
from .postgres import postgres_server

# nbgrader's own add_submission warns about its session's autoflush; not this code's concern.
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
MODULE = "m02-ferpa"
STRONG = [f"s{i:02d}" for i in range(20)]
WEAK = [f"w{i:02d}" for i in range(20)]
BLANK = ["x-blank", "x-damaged"]
MISKEYED = "parent-access"  # truly "b"; keyed "a" in the test copy

def _choice(id_: str, text: str, verdict: str, nxt: str) -> dict[str, str]:
    return {"id": id_, "text": text, "verdict": verdict, "feedback": "Why.", "cite": "Source.",
            "next": nxt}


# A branching scenario: two endings of its own, and the legacy generic `end`.
SCENARIO = {"scenarios": [{"id": "leak", "title": "A spreadsheet goes astray", "steps": [
    {"id": "start", "situation": "A teacher emailed student records to the wrong parent.",
     "question": "What do you do first?", "choices": [
         _choice("contain", "Ask for it back and deleted", "best", "notify"),
         _choice("wait", "Wait to see if anyone complains", "risky", "start"),
         _choice("blame", "Blame the email system", "risky", "lost")]},
    {"id": "notify", "situation": "The parent confirms deletion.",
     "question": "Whom do you tell?", "choices": [
         _choice("families", "The affected families", "best", "kept"),
         _choice("nobody", "Nobody", "risky", "end")]},
    {"id": "kept", "ending": {"outcome": "good", "title": "Trust kept",
                              "summary": "Families heard it from you."}},
    {"id": "lost", "ending": {"outcome": "poor", "title": "Trust lost",
                              "summary": "The story came out anyway."}},
]}]}

# (how many learners, trail, what else the store recorded): the planted paths.
NEW, OLD = "new", "old"
PATHS = [
    (12, [("start", "contain"), ("notify", "families")], {"ending": "kept"}),
    (8, [("start", "wait"), ("start", "contain"), ("notify", "families")], OLD),
    (6, [("start", "blame")], {"ending": "lost"}),
    (4, [("start", "contain"), ("notify", "nobody")], OLD),
    (3, [("start", "wait")], {"finished": False}),
    (2, [], {"ending": "lost"}),  # played again after finishing: the trail was emptied
    (1, [], OLD),  # the same, saved before endings were recorded
]


def scenario_state(trail: list[tuple[str, str]], extra: Any) -> dict[str, Any]:
    state: dict[str, Any] = {"trail": [{"step": s, "choice": c, "continued": True}
                                       for s, c in trail], "finished": True}
    if extra != OLD:
        state.update({"facts": {}, **extra})
        if "ending" in extra:
            state["path"] = [s for s, _ in trail] + [extra["ending"]]
    return state


def planted_answers(key: dict[str, Any], strong: bool, index: int) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for check, right in key.items():
        if strong:
            answers[check] = right
        elif isinstance(right, dict):  # a classification: every item in the first category
            answers[check] = {item: "consent" if check == "disclosure-basis" else "exempt"
                              for item in right}
        elif isinstance(right, list):
            answers[check] = ["a", "d"]
        else:
            answers[check] = "a" if right != "a" else "d"
    # The planted distractor: three in four weak learners pick c ("a police report") on
    # what-is-a-record, the rest a; nobody picks d. Strong learners avoid c.
    if not strong:
        answers["what-is-a-record"] = "c" if index % 4 else "a"
        answers[MISKEYED] = "a"  # right by the wrong key
    answers["former-student-optout"] = key["former-student-optout"]  # everyone right
    answers["records-custodian"] = "The registrar keeps the records."
    answers["next-steps"] = "Review the annual notice with the board next month."
    return answers


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def backend(request, monkeypatch):
    """Each gradebook back end: the cohort's SQLite file, or a throw-away PostgreSQL server."""
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    if request.param == "sqlite":
        yield request.param
    else:
        with postgres_server() as url:
            monkeypatch.setenv(cohorts.DB_URL_ENV, url)
            yield request.param


def make_cohort(tmp_path: Path, name: str, learners: list[str]) -> cohorts.Cohort:
    roster = tmp_path / f"{name}.csv"
    roster.write_text("id,first_name,last_name,email\n" + "".join(
        f"{x},First {x},Last {x},{x}@district.example.org\n" for x in learners))
    return cohorts.create_cohort(tmp_path / "course", name, roster)


def hand_in(cohort: cohorts.Cohort, graded: dict[str, dict[str, Any]]) -> None:
    """Write each learner's responses where the grader leaves them, score them with the
    grader's code against the (miskeyed) source notebook, and record the scores in nbgrader's
    gradebook as autograde does."""
    source = cohort.root / "source" / MODULE / f"{MODULE}.ipynb"
    with cohort.gradebook() as gb:
        for learner, data in graded.items():
            folder = cohort.path("autograded", learner, MODULE)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{MODULE}.responses.json"
            if data is None:
                path.write_text('{"answers": ', encoding="utf-8")  # damaged
            else:
                atomic_write_json(path, {"format": 1, "module": MODULE, **data})
            nb = nbformat.read(source, as_version=4)
            ScoreFromResponses().preprocess(nb, {"nbgrader": {"assignment": MODULE},
                                                 "metadata": {"path": str(folder)}})
            submission = gb.add_submission(MODULE, learner)
            grades = {g.name: g for g in submission.notebooks[0].grades}
            for cell in nb.cells:
                meta = cell.metadata.get("nbgrader", {})
                if meta.get("grade"):
                    grades[meta["grade_id"]].auto_score = determine_grade(cell)[0]
                    grades[meta["grade_id"]].needs_manual_grade = False
        gb.db.commit()


@pytest.fixture
def course(tmp_path: Path) -> Path:
    course = copy_course(tmp_path / "course", [MODULE])
    notebook = course / "source" / MODULE / f"{MODULE}.ipynb"
    text = notebook.read_text(encoding="utf-8")
    planted = f'course.expect(\\"{MISKEYED}\\", \\"b\\"'  # the JSON text of the key
    assert text.count(planted) == 1
    notebook.write_text(text.replace(planted, f'course.expect(\\"{MISKEYED}\\", \\"a\\"'),
                        encoding="utf-8")
    (course / "source" / MODULE / ".content" / "scenarios.yaml").write_text(
        yaml.safe_dump(SCENARIO))
    return course


def planted_cohort(tmp_path: Path, name: str = "spring") -> cohorts.Cohort:
    cohort = make_cohort(tmp_path, name, STRONG + WEAK + BLANK)
    key = answer_key(ROOT / "source" / MODULE / f"{MODULE}.ipynb")  # the true key
    graded: dict[str, Any] = {}
    learners = iter(STRONG[:10] + WEAK[:10] + STRONG[10:] + WEAK[10:])
    scenarios: dict[str, dict[str, Any]] = {}
    for count, trail, extra in PATHS:
        for _ in range(count):
            scenarios[next(learners)] = {"leak": scenario_state(trail, extra)}
    for i, learner in enumerate(STRONG + WEAK):
        graded[learner] = {"answers": planted_answers(key, learner in STRONG, i),
                           "scenarios": scenarios.get(learner, {})}
    graded["x-blank"] = {"answers": {}, "scenarios": {}}
    graded["x-damaged"] = None
    hand_in(cohort, graded)
    return cohort


def by_id(analysis: items.ItemAnalysis) -> dict[str, items.CheckAnalysis]:
    return {c.id: c for c in analysis.modules[0].checks}


def codes(check: items.CheckAnalysis) -> set[tuple[str, str]]:
    return {(f.code, f.option) for f in check.flags}


def test_answer_keys_are_the_graded_keys(root: Path):
    for notebook in sorted((root / "source").glob("*/*.ipynb")):
        keyed = items.answer_keys(notebook)
        assert {k.check: k.key for k in keyed} == answer_key(notebook), notebook.name
        assert all(k.grade_id == f"check-{k.check}" for k in keyed)


def test_group_suppression_leaves_nothing_to_work_out():
    assert item_report.suppress_group([20, 15, 5, 0], 40, 10) == [False, True, True, True]
    assert item_report.suppress_group([30, 12, 3], 45, 10) == [False, True, True]
    assert item_report.suppress_group([25, 25], 50, 10) == [False, False]
    assert item_report.suppress_group([5, 4], 9, 10) == [True, True]
    # One hidden cell would be total minus the others: a second one goes too.
    assert item_report.suppress_group([20, 20, 12, 8], 60, 10) == [False, False, True, True]
    for counts in ([20, 15, 5, 0], [11, 30, 3, 1], [16, 11, 6, 3], [40, 9, 1]):
        total = sum(counts)
        hidden = item_report.suppress_group(counts, total, 10)
        shown = [c for c, h in zip(counts, hidden, strict=True) if not h]
        assert all(not suppressed(c, total, 10) for c in shown)
        if any(hidden):
            assert sum(hidden) >= 2 and total - sum(shown) >= 10


def test_checks_scenarios_and_flags(backend: str, course: Path, tmp_path: Path):
    cohort = planted_cohort(tmp_path)
    analysis = items.item_analysis([cohort])
    module = analysis.modules[0]
    assert module.id == MODULE and "FERPA in practice" in module.title
    assert module.learners == 40  # the blank and the damaged submission are not counted
    checks = by_id(analysis)

    record = checks["what-is-a-record"]
    assert record.kind == "single" and record.learners == 40
    assert record.right == 20 and record.facility == pytest.approx(0.5)
    assert record.discrimination is not None and record.discrimination > 0.5
    options = {o.id: o for o in record.options}
    assert {k: o.count for k, o in options.items()} == {"a": 5, "b": 20, "c": 15, "d": 0}
    assert options["b"].role == "key" and options["c"].role == "distractor"
    assert record.upper_size == record.lower_size == 11
    assert options["c"].upper == 0 and options["c"].lower >= 7  # stronger learners avoid it
    assert options["b"].upper == 11 and options["b"].lower == 0
    assert codes(record) == {("unpicked", "d")}
    assert "Nobody chose option d" in record.flags[0].text

    miskeyed = checks[MISKEYED]
    assert miskeyed.right == 20 and miskeyed.facility == pytest.approx(0.5)
    assert miskeyed.discrimination is not None and miskeyed.discrimination < 0
    assert ("key", "") in codes(miskeyed)
    assert ("draws-stronger", "b") in codes(miskeyed)  # the true answer, keyed as wrong
    assert "re-check the answer key" in next(f.text for f in miskeyed.flags if f.code == "key")

    easy = checks["former-student-optout"]
    assert easy.facility == 1.0 and easy.discrimination is None
    assert codes(easy) == {("easy", "")} | {("unpicked", o.id) for o in easy.options
                                            if o.id != "b"}

    vendor = checks["vendor-conditions"]
    assert vendor.kind == "multiple" and vendor.right == 20
    ticks = {o.id: o.count for o in vendor.options}
    assert ticks == {"a": 40, "b": 20, "c": 20, "d": 20, "e": 0}
    assert ("unpicked", "e") in codes(vendor)

    basis = checks["disclosure-basis"]
    assert basis.kind == "classification" and basis.right == 20
    # Weak learners put every item in "consent": one of seven right, 2 * 1/7 of 2 points.
    assert basis.facility == pytest.approx((20 + 20 * round(2 / 7, 2) / 2) / 40)
    assert basis.discrimination is not None and basis.discrimination > 0
    car = next(p for p in basis.parts if p.id == "b-car-dealer")
    assert {o.id: o.count for o in car.options if o.count} == {"consent": 40}
    for check in checks.values():  # every other check: strong right, weak wrong
        if check.id not in (MISKEYED, "former-student-optout"):
            assert check.discrimination is not None and check.discrimination > 0, check.id
            assert ("key", "") not in codes(check)

    leak = module.scenarios[0]
    assert (leak.started, leak.finished) == (36, 33)
    steps = {s.id: s for s in leak.steps}
    assert steps["start"].learners == 33 and steps["notify"].learners == 24
    took = {(s.id, c.id): c.took for s in leak.steps for c in s.choices}
    first = {(s.id, c.id): c.first for s in leak.steps for c in s.choices}
    assert took == {("start", "contain"): 24, ("start", "wait"): 11, ("start", "blame"): 6,
                    ("notify", "families"): 20, ("notify", "nobody"): 4}
    assert first == {("start", "contain"): 16, ("start", "wait"): 11, ("start", "blame"): 6,
                     ("notify", "families"): 20, ("notify", "nobody"): 4}
    assert {e.id: e.count for e in leak.endings} == {"kept": 20, "lost": 8, "end": 4,
                                                    items.NOT_RECORDED: 1}
    assert leak.risky is not None and leak.risky[1].id == "wait"


def test_reports_and_share_suppression(course: Path, tmp_path: Path):
    cohort = planted_cohort(tmp_path)
    out = tmp_path / "reports"
    out.mkdir()
    section, csv_path = item_report.item_report(cohort, [MODULE], out)
    assert csv_path.name == "spring-items.csv"
    assert "Nobody chose option d" in section and "re-check the answer key" in section
    assert 'role="img"' in section and "<title id=" in section and "<desc id=" in section
    assert "Most common risky choice" in section and "Wait to see if anyone complains" in section
    assert "s01" not in section and "First s01" not in section
    rows = list(csv.DictReader(csv_path.open(encoding="utf-8")))
    assert list(rows[0]) == item_report.CSV_COLUMNS
    option = next(r for r in rows if r["kind"] == "option" and r["item"] == "what-is-a-record"
                  and r["option"] == "c")
    assert (option["count"], option["upper"], option["role"]) == ("15", "0", "distractor")
    check = next(r for r in rows if r["kind"] == "check" and r["item"] == MISKEYED)
    assert float(check["discrimination"]) < 0 and "re-check the answer key" in check["flags"]
    ending = next(r for r in rows if r["kind"] == "ending" and r["option"] == "kept")
    assert (ending["count"], ending["learners"], ending["role"]) == ("20", "33", "good")

    shared, shared_csv = item_report.item_report(cohort, [MODULE], out, share=True)
    assert shared_csv.name == "spring-shared-items.csv"
    rows = list(csv.DictReader(shared_csv.open(encoding="utf-8")))
    # Every count shown passes the minimum cell size against its total; nothing below it.
    analysis = items.item_analysis([cohort], [MODULE])
    true = {(o.id): o.count for o in by_id(analysis)["what-is-a-record"].options}
    shown = {r["option"]: r["count"] for r in rows if r["kind"] == "option"
             and r["item"] == "what-is-a-record"}
    assert shown == {"a": "suppressed", "b": "20", "c": "suppressed", "d": "suppressed"}
    assert sum(true[o] for o, c in shown.items() if c == "suppressed") >= 10
    for r in rows:
        if r["count"] not in ("", "suppressed") and r["kind"] != "scenario":
            assert int(r["count"]) >= 10, r
        assert r["upper"] == r["lower"] == ""
        assert "Nobody chose" not in r["flags"] and "Stronger learners chose" not in r["flags"]
    miskeyed = next(r for r in rows if r["kind"] == "check" and r["item"] == MISKEYED)
    assert miskeyed["count"] == "suppressed" and miskeyed["discrimination"] == ""
    endings = {r["option"]: r["count"] for r in rows if r["kind"] == "ending"}
    assert endings == {"kept": "20", "lost": "suppressed", "end": "suppressed",
                       items.NOT_RECORDED: "suppressed"}
    choices = {(r["part"], r["option"]): r["count"] for r in rows if r["kind"] == "choice"}
    assert choices[("start", "contain")] == "16"
    assert choices[("start", "blame")] == choices[("start", "wait")] == "suppressed"
    assert "Stronger (" not in shared and "suppressed" in shared


def test_the_shared_report_of_a_forty_learner_cohort(course: Path, tmp_path: Path):
    """At 40 learners, whole columns are suppressed and the pooled "all modules" row is
    shown with its own reason: every reason on the page has its mark and its sentence."""
    from privacy_course.facilitator.reports import report

    cohort = planted_cohort(tmp_path)
    written = report(cohort, tmp_path / "shared", share=True)
    page = next(p for p in written if p.suffix == ".html").read_text(encoding="utf-8")
    assert cohort.name in page and "suppressed" in page.lower()


def test_all_cohorts_pools_learners(course: Path, tmp_path: Path):
    spring = planted_cohort(tmp_path, "spring")
    fall = planted_cohort(tmp_path, "fall")
    paths = item_report.all_cohorts_report([fall, spring], tmp_path / "reports")
    assert [p.name for p in paths] == ["all-cohorts-items.html", "all-cohorts-items.csv"]
    analysis = items.item_analysis([fall, spring])
    assert analysis.scope == ["fall", "spring"] and analysis.modules[0].learners == 80
    record = by_id(analysis)["what-is-a-record"]
    assert {o.id: o.count for o in record.options} == {"a": 10, "b": 40, "c": 30, "d": 0}
    assert analysis.modules[0].scenarios[0].started == 72
    page = paths[0].read_text(encoding="utf-8")
    assert "Cohorts pooled: fall, spring" in page and "<h1>" in page
    rows = list(csv.DictReader(paths[1].open(encoding="utf-8")))
    assert {r["scope"] for r in rows} == {"fall spring"}


def test_cli_all_cohorts(course: Path, tmp_path: Path, monkeypatch):
    from privacy_course.cli import main

    planted_cohort(tmp_path, "spring")
    monkeypatch.chdir(course)
    assert main(["report", "--all-cohorts", "--share", "--out", str(tmp_path / "r")]) == 0
    shared = json.dumps((tmp_path / "r" / "all-cohorts-shared-items.csv").read_text())
    assert "suppressed" in shared and "s01" not in shared


@pytest.mark.slow
@pytest.mark.browser
def test_report_sections_in_a_browser(course: Path, tmp_path: Path):
    """The facilitator's report with its item-analysis section, and the shared item analysis
    page, in chromium: charts drawn with their text alternatives, no serious axe-core
    violation."""
    from playwright.sync_api import sync_playwright

    from privacy_course.facilitator.reports import report

    from .browser_helpers import axe_violations, describe, launch, serious

    cohort = planted_cohort(tmp_path)
    pages = [next(p for p in report(cohort, tmp_path / "reports") if p.suffix == ".html"),
             item_report.all_cohorts_report([cohort], tmp_path / "reports", share=True)[0]]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for page_path in pages:
                tab = browser.new_page(viewport={"width": 1200, "height": 900})
                tab.goto(page_path.as_uri())
                charts = tab.locator("section.pc-items svg[role=img]")
                assert charts.count() == 2  # the module's facility chart, the endings chart
                assert charts.first.bounding_box()["height"] > 100
                name = tab.evaluate("() => { const s = document.querySelector("
                                    "'section.pc-items svg'); return s.getAttribute("
                                    "'aria-labelledby').split(' ').map(i => document."
                                    "getElementById(i).textContent).join(' '); }")
                assert name.startswith("Facility of each knowledge check")
                tab.locator("section.pc-items details summary").first.click()
                violations = axe_violations(tab)
                tab.screenshot(path=str(tmp_path / f"{page_path.stem}.png"), full_page=True)
                assert not serious(violations), describe(serious(violations))
                tab.close()
        finally:
            browser.close()
