"""Reports for their readers: the facilitator's page (heatmap legend, checks by question,
graded learners only, hardest first), the per-learner CSV with a byte-order mark, and the
shared report that names the cohort, the date and the suppression rule and offers the coarser
figure a rule allows."""

from __future__ import annotations

import csv
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from markupsafe import escape

from privacy_course.facilitator.completion import (
    BELOW_PASS,
    COMPLETE,
    NOT_SUBMITTED,
    PROBLEM,
    SYMBOLS,
    LearnerRow,
    ModuleResult,
)
from privacy_course.facilitator.reports import (
    FEW,
    FEW_OUTSIDE,
    TOO_SMALL,
    _pooled_row,
    check_labels,
    figure,
    legend,
    share_rows,
    write_csv,
    write_learner_csv,
)

from .conftest import ROOT

M1, M2 = "m01-making-the-case", "m02-ferpa"


def learner(i: int, states: dict[str, str], late: set[str] = frozenset()) -> LearnerRow:
    return LearnerRow(f"l{i:02d}", "Zoë", f"Ñúñez-{i}", f"l{i}@district.example.org",
                      {m: ModuleResult(f"l{i:02d}", m, s, 5.0 if s != NOT_SUBMITTED else None,
                                       6.0 if s != NOT_SUBMITTED else None,
                                       datetime(2027, 1, 12), m in late)
                       for m, s in states.items()})


def test_figures_follow_the_rule_and_say_why():
    assert figure(25, 40, 10).text == "25 (62%)"
    assert figure(4, 40, 10) == figure(4, 40, 10) and figure(4, 40, 10).reason == FEW
    assert figure(4, 40, 10).text == "fewer than 10"
    # 38 of 40 would give away the 2 who did not: a range that can be shown instead.
    assert figure(38, 40, 10).text == "all but fewer than 10 of 40"
    assert figure(38, 40, 10).reason == FEW_OUTSIDE
    assert figure(40, 40, 10).text == "all but fewer than 10 of 40"  # everyone, too
    assert figure(9, 15, 10).reason == TOO_SMALL  # either side would be below 10
    assert figure(12, 30, 10, of_total=False).text == "12"


def test_forty_learners_get_the_coarser_figures_a_module_allows():
    """The issue's cohort: 40 learners, nearly all handing in: every exact count would give
    away the few who did not, so each cell is a range, with its reason, and the modules
    pooled give the exact figure that can be shown."""
    rows = [learner(i, {M1: COMPLETE if i < 37 else NOT_SUBMITTED,
                        M2: COMPLETE if i < 33 else NOT_SUBMITTED}) for i in range(40)]
    table = share_rows(rows, [M1, M2], 10, {M1: "Module 1", M2: "Module 2"})
    assert [t["title"] for t in table] == ["Module 1", "Module 2"]
    assert table[0]["enrolled"].text == "40"
    assert table[0]["submitted"].text == "all but fewer than 10 of 40"
    assert table[0]["submitted"].reason == FEW_OUTSIDE
    assert table[1]["complete"].text == "all but fewer than 10 of 40"
    pooled = _pooled_row(table, 40, 10)
    # 70 of 80 module submissions: 10 missing altogether, so both sides are at least 10.
    assert pooled and pooled["submitted"].text == "70 of 80 (88%)"


def test_pooling_never_gives_away_what_a_module_hides():
    """One module hidden, the others exact: their sum would give the hidden one away."""
    rows = [learner(i, {M1: COMPLETE if i < 38 else NOT_SUBMITTED,
                        M2: COMPLETE if i < 20 else NOT_SUBMITTED}) for i in range(40)]
    table = share_rows(rows, [M1, M2], 10)
    assert table[1]["submitted"].text == "20 (50%)"
    assert _pooled_row(table, 40, 10) is None


def test_the_per_learner_csv_has_a_bom_and_one_row_per_learner(tmp_path: Path):
    rows = [learner(1, {M1: COMPLETE, M2: COMPLETE}, late={M2}),
            learner(2, {M1: BELOW_PASS, M2: NOT_SUBMITTED}),
            learner(3, {M1: PROBLEM, M2: NOT_SUBMITTED})]
    path = write_learner_csv(rows, [M1, M2], 0.75, tmp_path / "learners.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    lines = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [line["learner"] for line in lines] == ["l01", "l02", "l03"]
    first = lines[0]
    assert (first["first_name"], first["last_name"], first["email"]) == (
        "Zoë", "Ñúñez-1", "l1@district.example.org")
    assert first[f"{M1} state"] == "complete" and first["late"] == "m02"
    assert first["hours"] == "1.5" and first["course complete"] == "yes"
    assert lines[1][f"{M2} state"] == "not submitted" and lines[1]["hours"] == "0"
    assert lines[2][f"{M1} state"] == "could not be graded"
    long = write_csv(rows, [M1, M2], tmp_path / "long.csv")
    assert long.read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(list(csv.DictReader(long.open(encoding="utf-8-sig")))) == 6


def test_the_legend_names_every_state():
    shown = {item["state"] for item in legend()}
    assert shown == {str(state) for state in SYMBOLS}
    assert all(item["colour"].startswith("#") for item in legend())


def test_checks_are_labelled_by_their_question():
    labels = check_labels(ROOT, M1)
    assert labels["check-no-news"].startswith("A board member says: \"No breach at our district")
    assert all(not label.startswith("check-") for label in labels.values())


# -- the whole report, from a cohort graded for real -------------------------------------------

@pytest.mark.slow  # a cohort made and graded by nbgrader in the sandbox: 30-90 s
def test_reports_from_a_graded_cohort(tmp_path: Path):
    from privacy_course.facilitator.cohort import create_cohort
    from privacy_course.facilitator.reports import report
    from privacy_course.grading import autograde

    from .conftest import copy_course
    from .grading_helpers import submit_folder
    from .learner import answer_key, run_module

    course = copy_course(tmp_path / "course", [M1])
    key = answer_key(course / "source" / M1 / f"{M1}.ipynb")
    single = [c for c, v in key.items() if isinstance(v, str)]
    wrong = {c: "a" if key[c] != "a" else "b" for c in single[:2]}
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\n"
                      "alice,Alice,Adams,alice@district.example.org\n"
                      "bea,Béa,O'Brien,bea@district.example.org\n"
                      "carl,Carl,Cruz,carl@district.example.org\n"
                      "dana,Dana,Diaz,dana@district.example.org\n"
                      "eve,Eve,Evans,eve@district.example.org\n", encoding="utf-8")
    cohort = create_cohort(course, "spring-27", roster)
    for name, answers in {"alice": key, "bea": {**key, **wrong}}.items():
        work = tmp_path / name / M1
        shutil.copytree(course / "release" / M1, work)
        run_module(work / f"{M1}.ipynb", answers=answers)
        submit_folder(cohort.folder, name, M1, work)
    # carl hands in the module untouched (blank); dana's notebook file is cut short (damaged).
    submit_folder(cohort.folder, "carl", M1, course / "release" / M1)
    damaged = submit_folder(cohort.folder, "dana", M1, course / "release" / M1)
    notebook = damaged / f"{M1}.ipynb"
    notebook.write_text(notebook.read_text(encoding="utf-8")[:500], encoding="utf-8")
    autograde.grade(cohort, [M1], workers=2, progress=autograde._Quiet())

    long_csv, learners_csv, page = report(cohort, tmp_path / "reports")[:3]
    assert learners_csv.name == "spring-27-learners.csv"
    assert learners_csv.read_bytes().startswith(b"\xef\xbb\xbf")
    html = page.read_text(encoding="utf-8")
    assert html.count("data:image/png;base64,") == 2
    assert "Legend" in html and all(str(state) in html for state in SYMBOLS)
    assert "Module 1: Why student data privacy matters" in html
    # Which checks learners miss: counted are alice and bea only (carl blank, dana damaged);
    # the two checks bea got wrong come first, named by their questions.
    table = html[html.index("Every check, hardest first"):]
    prompts = check_labels(course, M1)
    first, second = (table.index(str(escape(prompts[f"check-{c}"]))) for c in wrong)
    others = [table.index(str(escape(prompts[f"check-{c}"]))) for c in single[2:]]
    assert max(first, second) < min(others)
    assert '<td class="num">1</td><td class="num">2</td><td class="num">50%</td>' in table
    assert '<td class="num">3</td>' not in table and '<td class="num">4</td>' not in table
    assert "check-no-news" not in html

    shared_page, shared_csv = report(cohort, tmp_path / "reports", share=True)[:2]
    shared = " ".join(shared_page.read_text(encoding="utf-8").split())
    assert "Cohort spring-27" in shared
    assert f"Written {datetime.now():%Y-%m-%d}" in shared
    assert "at least 10 learners are in it" in shared and "NCES 2011-603" in shared
    assert "fewer than 10 learners: a group this small is never counted exactly." in shared
    for private in ("Alice", "O'Brien", "O&#39;Brien", "district.example.org", "alice"):
        assert private not in shared and private not in shared_csv.read_text("utf-8-sig")
    assert shared_csv.read_bytes().startswith(b"\xef\xbb\xbf")
