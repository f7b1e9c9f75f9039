"""A whole cohort through the real exchange: create -> release -> fetch -> submit -> collect ->
grade -> feedback -> report, with six simulated learners of different behaviour, on SQLite and on
a real PostgreSQL server; work left waiting in the exchange, a resubmission that is shown as such
until it is graded, and grading that takes only what changed."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from privacy_course.facilitator import cohort as cohorts
from privacy_course.facilitator import completion as comp
from privacy_course.facilitator import status as st
from privacy_course.facilitator.certificates import write_certificates
from privacy_course.facilitator.reports import report
from privacy_course.facilitator.watch import watch
from privacy_course.grading import autograde

from .conftest import copy_course
from .exchange_helpers import fetch, fetch_feedback, submit
from .learner import answer_key, run_module
from .postgres import postgres_server

pytestmark = pytest.mark.slow
MODULE = "m01-making-the-case"
ROSTER = """id,first_name,last_name,email
alice,Alice,Adams,alice@district.example.org
bea,Bea,Brooks,bea@district.example.org
carl,Carl,Cruz,carl@district.example.org
dana,Dana,Diaz,dana@district.example.org
eve,Eve,Evans,eve@district.example.org
finn,Finn,Fox,finn@district.example.org
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch):
    if request.param == "sqlite":
        monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
        yield "sqlite"
        return
    with postgres_server() as url:
        monkeypatch.setenv(cohorts.DB_URL_ENV, url)
        yield "postgresql"


def scores(cohort: cohorts.Cohort) -> dict[str, tuple[float, float]]:
    with cohort.gradebook() as gb:
        return {d["student"]: (d["score"], d["max_score"]) for d in gb.submission_dicts(MODULE)}


def test_whole_cohort_cycle(backend: str, tmp_path: Path):
    course = copy_course(tmp_path / "course", [MODULE])
    (tmp_path / "roster.csv").write_text(ROSTER)
    cohort = cohorts.create_cohort(course, "spring", tmp_path / "roster.csv")
    assert cohort.learner_ids() == ["alice", "bea", "carl", "dana", "eve", "finn"]
    cohorts.release(cohort, MODULE, due=datetime.now(UTC).replace(tzinfo=None)
                    + timedelta(days=7))

    key = answer_key(course / "source" / MODULE / f"{MODULE}.ipynb")
    partly = dict(key)
    singles = [c for c, v in key.items() if isinstance(v, str)]
    for check_id in singles[:3]:  # three checks wrong: below the 80% pass mark
        partly[check_id] = "a" if key[check_id] != "a" else "b"
    homes = {name: tmp_path / "home" / name for name in cohort.learner_ids()}

    def work(name: str) -> Path:
        return fetch(course, "spring", name, homes[name], MODULE)

    def hand_in(name: str) -> None:
        submit(course, "spring", name, homes[name], MODULE)

    run_module(work("alice") / f"{MODULE}.ipynb", answers=key)
    run_module(work("bea") / f"{MODULE}.ipynb", answers=partly)
    work("carl")  # blank: hands in the untouched notebook
    folder = work("eve")
    run_module(folder / f"{MODULE}.ipynb", answers=key)
    (folder / f"{MODULE}.ipynb").write_text('{"cells": [', encoding="utf-8")  # damaged file
    folder = work("finn")
    run_module(folder / f"{MODULE}.ipynb", answers=key)
    nb = nbformat.read(folder / f"{MODULE}.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.get("id") != "check-no-news"]  # deletes a test cell
    nbformat.write(nb, folder / f"{MODULE}.ipynb")
    for name in ("alice", "bea", "carl", "eve", "finn"):
        hand_in(name)
    assert sorted(cohorts.collect(cohort, MODULE)) == ["alice", "bea", "carl", "eve", "finn"]

    # The deadline passes just after the last hand-in so far; dana hands in afterwards and is
    # late. The due date comes from the recorded timestamps, not the clock plus a sleep.
    from nbgrader.utils import parse_utc

    handed_in = [parse_utc((p / "timestamp.txt").read_text().strip())
                 for p in cohort.folder.glob(f"submitted/*/{MODULE}")]
    with cohort.gradebook() as gb:
        gb.update_or_create_assignment(MODULE, duedate=max(handed_in).replace(tzinfo=None)
                                       + timedelta(microseconds=1))
    run_module(work("dana") / f"{MODULE}.ipynb", answers=key)
    hand_in("dana")
    # Forgetting to collect: status says what waits and how to collect it.
    assert cohorts.uncollected(cohort, MODULE) == ["dana"]
    screen = " ".join(st.render(st.cohort_status(cohort)).split())
    assert ("1 submission for m01 waits in the exchange: run `privacy-course collect m01`"
            in screen)
    assert cohorts.collect(cohort, MODULE) == ["dana"]  # only what was new
    assert cohorts.uncollected(cohort, MODULE) == []

    outcomes = autograde.grade(cohort, [MODULE], workers=2, progress=autograde._Quiet())
    by_learner = {o.learner: o for o in outcomes}
    assert len(outcomes) == 6
    assert not by_learner["eve"].ok
    assert "not valid JSON" in by_learner["eve"].problem
    assert all(by_learner[n].ok for n in ("alice", "bea", "carl", "dana", "finn"))
    assert "test cell check-no-news was deleted (it was put back and graded)" in by_learner[
        "finn"].notes

    graded = scores(cohort)
    full = graded["alice"][1]
    assert full >= 5
    assert graded["alice"] == (full, full)
    assert graded["bea"] == (full - 3, full)
    assert graded["carl"] == (0.0, full)
    assert graded["dana"] == (full, full)
    assert graded["finn"] == (full, full)

    # Completion's one grouped query gives nbgrader's own per-submission figures.
    with cohort.gradebook() as gb:
        ours = comp.graded_submissions(gb, [MODULE])[MODULE]
        theirs = {d["student"]: {"score": d["score"], "max_score": d["max_score"],
                                 "timestamp": d["timestamp"]}
                  for d in gb.submission_dicts(MODULE)}
    assert ours == theirs and len(ours) == 6  # eve too: nbgrader records a failed run

    rows = {r.id: r for r in comp.completion(cohort)}
    states = {name: rows[name].results[MODULE].state for name in rows}
    assert states == {"alice": comp.COMPLETE, "bea": comp.BELOW_PASS, "carl": comp.BELOW_PASS,
                      "dana": comp.COMPLETE, "eve": comp.PROBLEM, "finn": comp.COMPLETE}
    assert rows["dana"].results[MODULE].late and not rows["alice"].results[MODULE].late
    assert "not valid JSON" in rows["eve"].results[MODULE].flags[0]
    screen = st.render(st.cohort_status(cohort))
    assert max(len(line) for line in screen.splitlines()) <= 80
    assert "m01: the notebook file is damaged (not valid JSON)" in screen
    flowing = " ".join(screen.split())
    assert "who: Eve Evans (eve) what to do: Ask the learner to fetch the module again" in flowing
    dana = next(line for line in screen.splitlines() if line.startswith("Dana Diaz (dana)"))
    assert dana.split()[3:] == ["OK*", "1/1"]  # complete, handed in late
    reminders = {r.row.id: r for r in st.needs_action(st.cohort_status(cohort))}
    assert sorted(reminders) == ["bea", "carl", "eve"]
    assert reminders["eve"].problems[0][1].code == "damaged-json"

    # Grading again changes nothing; grading what changed finds nothing (eve's damaged file
    # waits for her next submission).
    before = scores(cohort)
    autograde.grade(cohort, [MODULE], workers=2, progress=autograde._Quiet())
    assert scores(cohort) == before
    assert autograde.grade(cohort, [MODULE], workers=2, only_new=True,
                           progress=autograde._Quiet()) == []

    # Feedback reaches learners and never shows hidden tests.
    sent = cohorts.feedback(cohort, MODULE)
    assert {n for n, why in sent.items() if not why} == {"alice", "bea", "carl", "dana", "finn"}
    assert sent["eve"].startswith("it could not be graded: the notebook file is damaged")
    pages = fetch_feedback(course, "spring", "alice", homes["alice"], MODULE)
    assert pages
    html = pages[0].read_text(encoding="utf-8")
    # Code is syntax-highlighted in the page: look for the names between tags.
    assert "HIDDEN TESTS" not in html and ">expect<" not in html
    assert ">status<" in html

    # Reports.
    out = tmp_path / "reports"
    written = {p.name: p for p in report(cohort, out)}
    csv_path, html_path = written["spring-report.csv"], written["spring-report.html"]
    items_csv = written["spring-items.csv"]
    # Item analysis of the real grading: bea missed three checks; carl's blank and eve's
    # ungradable submissions are not counted.
    checks = {r["item"]: r for r in csv.DictReader(items_csv.open(encoding="utf-8"))
              if r["kind"] == "check"}
    assert all((checks[c]["learners"], checks[c]["count"]) == ("4", "3") for c in singles[:3])
    lines = list(csv.DictReader(csv_path.open(encoding="utf-8-sig")))  # Excel's BOM
    assert len(lines) == 6
    by_id = {line["learner"]: line for line in lines}
    assert by_id["alice"]["complete"] == "yes" and float(by_id["alice"]["score"]) == full
    assert by_id["bea"]["complete"] == "no" and by_id["dana"]["late"] == "yes"
    assert by_id["eve"]["state"] == comp.PROBLEM
    page = html_path.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2 and "alt=" in page
    written = {p.name: p for p in report(cohort, out, share=True)}
    shared_html, shared_csv = written["spring-shared.html"], written["spring-shared.csv"]
    shared = shared_html.read_text(encoding="utf-8") + shared_csv.read_text(encoding="utf-8")
    for name in ("alice", "Adams", "district.example.org"):
        assert name not in shared
    assert "suppressed" in shared  # six learners is below the minimum cell size of 10

    cohort.settings.certificate_issuer = "Springfield Public Schools"
    cohort.settings.certificate_signer = "Dr. Maria Lopez"
    certificates = write_certificates(cohort, list(rows.values()), [MODULE], out / "certs")
    assert sorted(p.name for c in certificates.issued for p in c.files) == [
        f"certificate-{n}.{ext}" for n in ("alice", "dana", "finn")
        for ext in ("credential.json", "html", "pdf")]
    assert certificates.issued[0].files[1].read_bytes().startswith(b"%PDF")

    # bea redoes the module and hands it in again: until it is graded, her old grade is not
    # shown as her standing; grading takes only hers.
    run_module(homes["bea"] / "spring" / MODULE / f"{MODULE}.ipynb", answers=key)
    hand_in("bea")
    assert cohorts.collect(cohort, MODULE) == ["bea"]
    bea = next(r for r in comp.completion(cohort) if r.id == "bea").results[MODULE]
    assert bea.state == comp.RESUBMITTED == "resubmitted, not graded yet"
    line = next(x for x in st.render(st.cohort_status(cohort)).splitlines()
                if x.startswith("Bea Brooks (bea)"))
    assert line.split()[3] == "re*"  # resubmitted after the due date: late, not graded yet
    again = autograde.grade(cohort, [MODULE], workers=2, only_new=True,
                            progress=autograde._Quiet())
    assert [(o.learner, o.ok) for o in again] == [("bea", True)]
    bea = next(r for r in comp.completion(cohort) if r.id == "bea").results[MODULE]
    assert bea.state == comp.COMPLETE and scores(cohort)["bea"] == (full, full)

    # Retention: purge removes the cohort's learner data everywhere.
    exchange = Path(cohort.config().Exchange.root) / "spring"
    assert exchange.exists()
    removed = cohorts.purge(cohort)
    assert removed["learners"] == 6 and removed["submissions"] == 6
    assert not cohort.folder.exists() and not exchange.exists()
    assert cohorts.list_cohorts(course) == []


def test_watch_grades_new_submissions_and_returns_feedback(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    course = copy_course(tmp_path / "course", [MODULE])
    (tmp_path / "roster.csv").write_text(ROSTER)
    cohort = cohorts.create_cohort(course, "self-paced", tmp_path / "roster.csv")
    cohorts.release(cohort, MODULE)
    home = tmp_path / "home" / "alice"
    folder = fetch(course, "self-paced", "alice", home, MODULE)
    run_module(folder / f"{MODULE}.ipynb",
               answers=answer_key(course / "source" / MODULE / f"{MODULE}.ipynb"))
    submit(course, "self-paced", "alice", home, MODULE)
    said: list[str] = []
    graded = watch(cohort, [MODULE], interval=0, cycles=1, workers=1, say=said.append)
    assert graded == 1 and said == [f"graded and returned feedback: alice {MODULE}"]
    assert fetch_feedback(course, "self-paced", "alice", home, MODULE)
    # A restarted watcher finds nothing new to do.
    assert watch(cohort, [MODULE], interval=0, cycles=1, workers=1,
                           say=said.append) == 0
    assert json.loads((cohort.folder / "cohort.json").read_text())["name"] == "self-paced"
    shutil.rmtree(home)
