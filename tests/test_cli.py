"""The command line, in process (`main([...])`): exit codes and what reaches stderr.

Every error a person can fix is one `error: ...` line and exit status 2, never a traceback."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from privacy_course.authoring.content import content_folder
from privacy_course.cli import due_date, main
from privacy_course.facilitator import cohort as cohorts

from .conftest import copy_course

MODULE = "m01-making-the-case"
ROSTER = "id,first_name,last_name,email\nalice,Alice,Adams,alice@district.example.org\n"


def test_outside_a_course_folder_says_where_to_run(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PRIVACY_COURSE_ROOT", raising=False)
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: No grader_config.py found") and "Traceback" not in err


def test_an_unknown_cohort_lists_the_cohorts_there_are(course_copy: Path, monkeypatch, capsys):
    monkeypatch.setenv("PRIVACY_COURSE_ROOT", str(course_copy))
    assert main(["status", "--cohort", "autumn"]) == 2
    assert "no cohort named 'autumn'" in capsys.readouterr().err


def test_a_due_date_it_cannot_read_is_refused_before_anything_runs(course_copy: Path,
                                                                   monkeypatch, capsys):
    monkeypatch.setenv("PRIVACY_COURSE_ROOT", str(course_copy))
    with pytest.raises(SystemExit) as stop:
        main(["release", "--cohort", "spring", MODULE, "--due", "next Friday at five"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "'next Friday at five' is not a date and time" in err and "Jan 15 2027 5pm" in err
    assert "Traceback" not in err


def test_due_dates_are_wall_clock_times_until_a_cohort_gives_the_zone():
    """`--due` is checked as it is parsed; the cohort's time zone is applied by `release`
    (tests/test_safe_defaults.py); a written offset is kept."""
    assert due_date("2027-01-15") == datetime(2027, 1, 15, 23, 59)
    assert due_date("Jan 15 2027 5pm") == datetime(2027, 1, 15, 17, 0)
    assert due_date("2027-01-15 17:00+01:00").utcoffset() == timedelta(hours=1)


@pytest.mark.slow
def test_a_content_error_outside_build_names_the_file(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    course = copy_course(tmp_path / "course", [MODULE])
    monkeypatch.setenv("PRIVACY_COURSE_ROOT", str(course))
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    assert main(["cohort", "create", "spring", "--roster", str(tmp_path / "roster.csv")]) == 0
    broken = content_folder(course / "source" / MODULE) / "scenarios.yaml"
    broken.write_text("scenarios: [unclosed\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "scenarios.yaml" in err and "Traceback" not in err


def test_an_exchange_refusal_during_start_is_one_sentence(course_copy: Path, tmp_path: Path):
    from privacy_course.config import load_config
    from privacy_course.start import ExchangeProblem, _run_step, exchange_config, exchange_step

    config = exchange_config(load_config(course_copy), "spring", "alice")
    config.Exchange.assignment_dir = str(tmp_path / "alice")
    step = exchange_step("FetchAssignment", config, "m99-not-released")
    with pytest.raises(ExchangeProblem) as refused:
        _run_step(step, "fetch m99-not-released")
    message = str(refused.value)
    assert message.startswith("could not fetch m99-not-released: ") and "\n" not in message
    assert "Exchange.root in grader_config.py" in message
