"""`privacy-course status` guides: names, due dates, late marks, per-module totals, work waiting
in the exchange, every flag with what to do (the same sentences README's table quotes), 80
columns unless --wide, and `--needs-action` lists for a reminder mail merge.

The screen is rendered from completion's own records (`LearnerRow`, `ModuleResult`) for 40
learners; tests/test_cohort_e2e.py renders it from a real graded cohort."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from privacy_course.facilitator import status as st
from privacy_course.facilitator.completion import (
    BELOW_PASS,
    COMPLETE,
    NOT_GRADED,
    NOT_SUBMITTED,
    PROBLEM,
    RESUBMITTED,
    SCENARIOS_UNFINISHED,
    LearnerRow,
    ModuleResult,
)
from privacy_course.record import ACTIONS, TEXTS, Flag

from .conftest import ROOT

MODULES = ["m01-making-the-case", "m02-ferpa", "m03-laws-together", "m04-governance",
           "m05-vetting-providers", "m06-deidentification", "m07-facial-recognition",
           "m08-trust-communication"]
DUE = datetime(2027, 1, 15, 23, 0)  # 17:00 in Chicago


def cohort_of_40() -> st.CohortStatus:
    """Forty learners, every state somewhere, long names, late work, flags."""
    rows = []
    damaged = Flag("damaged-json")
    unusable = Flag("answers-unusable", problem="m01-making-the-case.responses.json is damaged "
                    "(not valid JSON: Unterminated string starting at).")
    for n in range(40):
        first = "Thị Lan" if n == 0 else f"Learner{n:02d}"
        last = "Nguyễn-Montgomery-Featherstonehaugh" if n == 0 else "Tester"
        results = {}
        for i, module_id in enumerate(MODULES):
            state = [COMPLETE, BELOW_PASS, SCENARIOS_UNFINISHED, NOT_GRADED, PROBLEM,
                     NOT_SUBMITTED, RESUBMITTED][(n + i) % 7] if i < 3 else NOT_SUBMITTED
            flags = [damaged] if state == PROBLEM else [unusable] if n == 5 and i == 0 else []
            score = 4.0 if state == BELOW_PASS else 6.0 if state == COMPLETE else None
            results[module_id] = ModuleResult(
                f"l{n:02d}", module_id, state, score, 6.0 if score is not None else None,
                late=(state == COMPLETE and n % 4 == 0), flags=flags)
        rows.append(LearnerRow(f"l{n:02d}", first, last, f"l{n:02d}@district.example.org",
                               results))
    return st.CohortStatus("spring-2027", rows, MODULES,
                           {MODULES[0]: DUE, MODULES[1]: DUE + timedelta(days=14),
                            MODULES[2]: None},
                           MODULES[:3], {MODULES[0]: ["l05", "l12", "l19"], MODULES[1]: []},
                           ZoneInfo("America/Chicago"), 0.8)


def test_every_flag_has_a_what_to_do_and_readme_quotes_the_same_sentences():
    assert set(ACTIONS) == set(TEXTS)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| flag | what happened | what to do |"):]
    rows = [line for line in table.split("\n\n")[0].splitlines()[2:] if line.startswith("|")]
    cells = {line.strip("|").rsplit(" | ", 1)[1].strip() for line in rows}
    assert cells == set(ACTIONS.values())


def test_flag_text_never_shows_a_parsers_own_wording():
    flag = Flag("answers-unusable", problem="m01.responses.json is damaged (not valid JSON: "
                "Unterminated string starting at).")
    assert flag == "saved answers unusable: m01.responses.json is damaged (not valid JSON)."
    assert flag.params["problem"].endswith("starting at).")  # the record keeps the detail
    assert Flag.from_json(flag.to_json()) == flag
    unreadable = Flag("answers-unusable", problem="m01.responses.json could not be read "
                      "([Errno 13] Permission denied: '/x/m01.responses.json').")
    assert "Permission denied" in unreadable and "/x/" not in unreadable


def test_status_fits_80_columns_and_shows_names_due_dates_late_marks_and_totals():
    view = cohort_of_40()
    screen = st.render(view)
    lines = screen.splitlines()
    assert max(map(len, lines)) <= 80, max(lines, key=len)
    assert "Cohort spring-2027: 40 learners, pass mark 80%, dates in America/Chicago." in screen
    assert re.search(r"m01-making-the-case +Fri 15 Jan 2027, 17:00", screen)
    assert re.search(r"m03-laws-together +released, no due date", screen)
    assert re.search(r"m04-governance +not released yet", screen)
    assert ("3 submissions for m01 wait in the exchange: run `privacy-course collect m01`"
            in " ".join(lines))
    assert re.search(r"^Learner01 Tester \(l01\) ", screen, re.M)
    assert "Thị Lan Nguyễn-Montgomery-Feath" in screen and "…" in screen  # cut to fit
    assert re.search(r"^Learner28 Tester \(l28\) +OK\*", screen, re.M)  # late
    header = next(line for line in lines if line.startswith("learner "))
    assert header.split()[1:] == ["m01", "m02", "m03", "m04", "m05", "m06", "m07", "m08",
                                  "done"]
    complete = next(line for line in lines if line.startswith("complete "))
    counts = [int(x) for x in complete.split()[1:]]
    assert counts[:3] == [sum(1 for r in view.rows if r.results[m].state == COMPLETE)
                          for m in MODULES[:3]]
    assert any(line.startswith("handed in late ") for line in lines)
    assert any(line.startswith("resubmitted, not graded yet ") for line in lines)
    assert "re resubmitted, not graded yet" in screen and "* handed in after the due date" in screen


def test_each_flag_comes_with_who_and_what_to_do():
    screen = st.render(cohort_of_40())
    flags = screen[screen.index("Flags, and what to do:"):]
    assert "m01: the notebook file is damaged (not valid JSON)" in flags
    assert "who: Learner" in flags
    assert "what to do: Ask the learner to fetch the module again, redo it and" in flags
    assert "Unterminated" not in screen


def test_wide_never_shortens_or_wraps():
    screen = st.render(cohort_of_40(), width=0)
    assert "Thị Lan Nguyễn-Montgomery-Featherstonehaugh (l00)" in screen
    assert "…" not in screen
    assert max(len(line) for line in screen.splitlines()) > 80


def test_needs_action_lists_who_and_why_with_emails():
    view = cohort_of_40()
    reminders = st.needs_action(view)
    by_id = {r.row.id: r for r in reminders}
    l00 = by_id["l00"]  # m01 complete, m02 below the pass mark, m03 scenarios unfinished
    assert l00.below_pass == ["m02-ferpa"] and l00.unfinished == ["m03-laws-together"]
    assert not l00.not_submitted  # m04-m08 are not released: nobody is reminded of them
    assert by_id["l01"].below_pass == ["m01-making-the-case"]
    assert by_id["l01"].unfinished == ["m02-ferpa"]
    assert by_id["l04"].not_submitted == ["m02-ferpa"]
    assert by_id["l04"].problems == [("m01-making-the-case", Flag("damaged-json"))]
    assert "l12" not in by_id  # her m01 waits in the exchange: handed in, nothing to remind
    assert by_id["l05"].problems[0][0] == "m01-making-the-case"  # a damaged answers file
    assert by_id["l05"].not_submitted == []
    text = st.reminders_text(view, reminders)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Below the pass mark of 80%:" in text
    assert "Learner01 Tester <l01@district.example.org>" in text
    flowing = " ".join(text.split())
    assert ("Learner26 Tester <l26@district.example.org>: m01-making-the-case (due Fri 15 Jan "
            "2027, 17:00") in flowing
    assert "What to do: Ask the learner" in flowing
    assert text.rstrip().endswith(reminders[-1].row.email)  # the Bcc list comes last

    rows = list(csv.DictReader(io.StringIO(st.reminders_csv(view, reminders))))
    assert [r["id"] for r in rows] == [r.row.id for r in reminders]
    assert list(rows[0]) == st.CSV_COLUMNS
    first = next(r for r in rows if r["id"] == "l00")
    assert first["email"] == "l00@district.example.org" and first["first_name"] == "Thị Lan"
    assert first["below_pass_mark"] == "m02-ferpa (4 of 6 points)"
    damaged = next(r for r in rows if r["could_not_be_graded"])
    assert damaged["what_to_do"] in ACTIONS.values()


def test_a_cohort_where_nobody_needs_to_act_says_so():
    view = cohort_of_40()
    for row in view.rows:
        for result in row.results.values():
            result.state, result.flags = COMPLETE, []
    assert st.needs_action(view) == []
    assert "Nobody in cohort spring-2027 needs to act" in st.reminders_text(view, [])


def test_the_course_readme_documents_the_status_options():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for option in ("--needs-action", "--csv", "--wide", "--regrade", "--collect", "--yes",
                   "c.CourseSettings.time_zone"):
        assert option in readme, option
    assert Path(ROOT / "grader_config.py").read_text().count("c.CourseSettings.time_zone") == 1
