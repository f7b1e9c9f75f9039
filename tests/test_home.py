"""The course home as a cohort's learner sees it: the modules released to her, with the due
dates her facilitator set (published beside each released module in the exchange)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from privacy_course.facilitator import cohort as cohorts
from privacy_course.learner.pages import render_home
from privacy_course.start import prepare_workspace

from .conftest import copy_course

MODULE = "m01-making-the-case"
ROSTER = "id,first_name,last_name,email\nalice,Alice,Adams,alice@district.example.org\n"


@pytest.mark.slow
def test_the_home_shows_the_cohort_and_its_due_dates(tmp_path: Path, monkeypatch):
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    course = copy_course(tmp_path / "course", [MODULE])
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    cohort = cohorts.create_cohort(course, "dates", tmp_path / "roster.csv")
    cohorts.release(cohort, MODULE, due=datetime(2027, 1, 15, 17, 0))
    workspace, env = prepare_workspace(course, tmp_path / "alice", "dates", "alice")
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", env["JUPYTER_CONFIG_DIR"])
    monkeypatch.chdir(workspace)  # where `privacy-course start` runs the learner's server
    page = render_home(workspace, "/")
    assert "Your cohort: <strong>dates</strong>" in page
    assert "Due 15 January 2027, 17:00 UTC" in page

    # Released again without a date, the date stays; the facilitator's gradebook is the truth.
    cohorts.release(cohort, MODULE)
    assert "Due 15 January 2027, 17:00 UTC" in render_home(workspace, "/")
