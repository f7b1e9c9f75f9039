"""A cohort leaves nothing behind: purge removes every file that names its learners, and a
creation that fails part-way removes the PostgreSQL database it had just made."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from privacy_course.facilitator import cohort as cohorts
from privacy_course.facilitator.certificates import write_certificates
from privacy_course.facilitator.completion import completion
from privacy_course.facilitator.reports import report
from privacy_course.grading import autograde

from .conftest import copy_course
from .exchange_helpers import fetch, fetch_feedback, submit
from .learner import answer_key, run_module
from .postgres import postgres_server

pytestmark = pytest.mark.slow
MODULE = "m01-making-the-case"
ROSTER = ("id,first_name,last_name,email\n"
          "quill,Zora,Quillfeather,zora.q@district.example.org\n"
          "wren,Yusuf,Wrenfield,yusuf.w@district.example.org\n")
NEEDLES = [b"quill", b"quillfeather", b"zora.q@district", b"wrenfield", b"yusuf.w@district"]
COURSE_CONTENT = {"modules", "source", "release"}


def _files_naming_learners(course: Path) -> list[str]:
    found = []
    for current, dirs, names in os.walk(course):
        if Path(current) == course:
            dirs[:] = [d for d in dirs if d not in COURSE_CONTENT]
        for name in names:
            path = Path(current) / name
            data = (path.name.encode() + b"\n" + path.read_bytes()).lower()
            if any(needle in data for needle in NEEDLES):
                found.append(str(path.relative_to(course)))
    return found


def test_purge_removes_every_file_that_names_a_learner(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    course = copy_course(tmp_path / "course", [MODULE])
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    cohort = cohorts.create_cohort(course, "retention", tmp_path / "roster.csv")
    cohorts.release(cohort, MODULE)
    key = answer_key(course / "source" / MODULE / f"{MODULE}.ipynb")
    # quill works on this machine (`privacy-course start --cohort retention --learner quill`:
    # her folder is learner/ in the course); wren on her own computer.
    homes = {"quill": course / "learner", "wren": tmp_path / "home" / "wren"}
    for learner, home in homes.items():
        folder = fetch(course, "retention", learner, home, MODULE)
        run_module(folder / f"{MODULE}.ipynb", answers=key)
        submit(course, "retention", learner, home, MODULE)
    cohorts.collect(cohort, MODULE)
    assert all(o.ok for o in autograde.grade(cohort, [MODULE], workers=2,
                                             progress=autograde._Quiet()))
    assert cohorts.feedback(cohort, MODULE) == {"quill": "", "wren": ""}
    assert fetch_feedback(course, "retention", "quill", homes["quill"], MODULE)
    rows = completion(cohort)
    report(cohort, course / "reports")
    report(cohort, course / "reports", share=True)
    cohort.settings.certificate_issuer = "Springfield Public Schools"
    cohort.settings.certificate_signer = "Dr. Maria Lopez"
    write_certificates(cohort, rows, [MODULE], course / "reports" / "retention-certificates")
    before = _files_naming_learners(course)
    assert any(p.startswith("reports/") for p in before)
    assert any(p.startswith("cohorts/") for p in before)

    removed = cohorts.purge(cohort)

    assert removed["learners"] == 2 and removed["submissions"] == 2
    assert _files_naming_learners(course) == []
    assert removed["remaining"] == []
    cache = cohorts._nbgrader_cache(cohort.config()) / "retention"
    assert not cache.exists()
    assert any(place.endswith("retention-report.csv") for place in removed["removed"])


def test_a_creation_that_fails_leaves_no_database(tmp_path: Path, monkeypatch):
    course = copy_course(tmp_path / "course", [MODULE])
    (course / "source" / MODULE / f"{MODULE}.ipynb").write_text('{"cells": [', "utf-8")
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    with postgres_server() as template:
        monkeypatch.setenv(cohorts.DB_URL_ENV, template)
        with pytest.raises(cohorts.CohortError, match="could not enter"):
            cohorts.create_cohort(course, "broken", tmp_path / "roster.csv")
        assert not (course / "cohorts" / "broken").exists()
        admin = create_engine(make_url(template.format(cohort="x")).set(database="postgres"))
        try:
            with admin.connect() as conn:
                names = {row[0] for row in conn.execute(text("SELECT datname FROM pg_database"))}
        finally:
            admin.dispose()
        assert "privacy_broken" not in names
