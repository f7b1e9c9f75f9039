"""Commands that do no more than asked: a module id or --all for anything broad, a due date that
replaces another is shown and asked about, dates read as people write them in the cohort's time
zone, a warning for a date in the past. Through `main([...])`, as a facilitator types them."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from privacy_course.authoring.build import module_ids
from privacy_course.cli import main
from privacy_course.config import ConfigError, load_config
from privacy_course.coursedir import Cohort
from privacy_course.facilitator import cohort as cohorts
from privacy_course.facilitator.dates import DateError, describe, parse_when, to_utc

from .conftest import copy_course

MODULE = "m01-making-the-case"
CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize("command", ["release", "collect", "grade", "feedback"])
def test_a_broad_command_without_a_module_refuses_and_lists_the_modules(
        command: str, course_copy: Path, monkeypatch, capsys):
    monkeypatch.setenv("PRIVACY_COURSE_ROOT", str(course_copy))
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: say which module(s) to ") and "--all" in err
    assert all(f"  {m}\n" in err + "\n" for m in module_ids(course_copy))
    assert "Traceback" not in err
    assert not (course_copy / ".exchange").exists()  # nothing was released anywhere


def test_an_unknown_module_or_ids_with_all_are_refused(course_copy: Path, monkeypatch, capsys):
    monkeypatch.setenv("PRIVACY_COURSE_ROOT", str(course_copy))
    assert main(["collect", "m99"]) == 2
    assert "no module m99; the modules are:\n  m01-making-the-case" in capsys.readouterr().err
    assert main(["grade", "m01", "--all"]) == 2
    assert "not both" in capsys.readouterr().err


@pytest.mark.parametrize(("text", "wall_clock"), [
    ("2027-01-15 17:00", datetime(2027, 1, 15, 17, 0)),
    ("Jan 15 2027 5pm", datetime(2027, 1, 15, 17, 0)),
    ("15 January 2027", datetime(2027, 1, 15, 23, 59)),  # a day alone: its end
    ("2027-01-15T17:00", datetime(2027, 1, 15, 17, 0)),
    ("Friday 15 January 2027, 5:30 pm", datetime(2027, 1, 15, 17, 30)),
    ("2027-01-15 00:00", datetime(2027, 1, 15, 0, 0)),  # midnight said is midnight
])
def test_dates_are_read_as_people_write_them(text: str, wall_clock: datetime):
    assert parse_when(text) == wall_clock


def test_a_date_is_read_in_the_cohorts_zone_unless_it_names_its_own():
    assert to_utc(parse_when("Jan 15 2027 5pm"), CHICAGO) == datetime(2027, 1, 15, 23, 0)
    assert to_utc(parse_when("Jul 15 2027 5pm"), CHICAGO) == datetime(2027, 7, 15, 22, 0)
    assert to_utc(parse_when("2027-01-15 17:00+01:00"), CHICAGO) == datetime(2027, 1, 15, 16, 0)
    assert to_utc(parse_when("Jan 15 2027 5pm UTC"), CHICAGO) == datetime(2027, 1, 15, 17, 0)
    assert describe(datetime(2027, 1, 15, 23, 0), CHICAGO) == (
        "Fri 15 Jan 2027, 17:00 America/Chicago (23:00 UTC)")
    assert describe(datetime(2027, 1, 16, 5, 59), CHICAGO) == (
        "Fri 15 Jan 2027, 23:59 America/Chicago (16 Jan, 05:59 UTC)")
    assert describe(datetime(2027, 1, 15, 17, 0), ZoneInfo("UTC")) == "Fri 15 Jan 2027, 17:00 UTC"


@pytest.mark.parametrize(("text", "why"), [
    ("01/02/2027", "could mean two different days"),
    ("Jan 2027", "leaves out the day"),
    ("5pm CST Jan 15 2027", "abbreviation"),
    ("tomorrow", "is not a date and time"),
    ("", "empty"),
])
def test_a_date_that_would_be_a_guess_is_refused_with_forms_that_work(text: str, why: str):
    with pytest.raises(DateError) as refused:
        parse_when(text)
    assert why in str(refused.value)


def test_an_unreadable_due_date_stops_the_command_before_anything_runs(course_copy: Path,
                                                                       monkeypatch, capsys):
    monkeypatch.setenv("PRIVACY_COURSE_ROOT", str(course_copy))
    with pytest.raises(SystemExit) as stop:
        main(["release", MODULE, "--due", "01/02/2027 5pm"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "could mean two different days" in err and "Jan 15 2027 5pm" in err
    assert "Traceback" not in err


def test_a_time_zone_setting_that_names_no_zone_says_where_it_is(course_copy: Path):
    config = load_config(course_copy)
    config.CourseSettings.time_zone = "America/Springfield"
    with pytest.raises(ConfigError) as refused:
        Cohort(course_copy, "spring", config).time_zone  # noqa: B018
    message = str(refused.value)
    assert "grader_config.py" in message and "c.CourseSettings.time_zone" in message
    assert "'America/Springfield'" in message and "America/Chicago" in message


class Terminal(io.StringIO):
    """Someone at a terminal, typing `answer`."""

    def isatty(self) -> bool:
        return True


def stored_due(cohort: cohorts.Cohort) -> datetime | None:
    return cohorts.due_dates(cohort, [MODULE])[MODULE]


@pytest.mark.slow
def test_changing_a_due_date_says_old_and_new_and_asks(tmp_path: Path, monkeypatch, capsys):
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    course = copy_course(tmp_path / "course", [MODULE])
    with (course / "grader_config.py").open("a", encoding="utf-8") as fh:
        fh.write('\nc.CourseSettings.time_zone = "America/Chicago"\n')
    roster = tmp_path / "roster.csv"
    roster.write_text("id,first_name,last_name,email\nalice,Alice,Adams,a@example.org\n")
    cohort = cohorts.create_cohort(course, "spring", roster)
    monkeypatch.setenv("PRIVACY_COURSE_ROOT", str(course))

    assert main(["release", "m01", "--due", "Jan 15 2027 5pm"]) == 0
    out = capsys.readouterr().out
    assert out == (f"Released {MODULE} to spring, due Fri 15 Jan 2027, 17:00 America/Chicago "
                   "(23:00 UTC).\n")
    assert stored_due(cohort) == datetime(2027, 1, 15, 23, 0)

    # Released again with the same date: nothing to ask.
    assert main(["release", MODULE, "--due", "2027-01-15 17:00"]) == 0
    assert "changes" not in capsys.readouterr().out

    # Another date, no one at a terminal: refused, old and new shown, nothing changed.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["release", "m01", "--due", "Jan 16 2027 5pm"]) == 1
    out = capsys.readouterr().out
    assert (f"{MODULE}: the due date changes from Fri 15 Jan 2027, 17:00 America/Chicago "
            "(23:00 UTC) to Sat 16 Jan 2027, 17:00 America/Chicago (23:00 UTC).") in out
    assert "add --yes" in out and "Nothing was released or changed." in out
    assert stored_due(cohort) == datetime(2027, 1, 15, 23, 0)

    # At a terminal: "n" keeps it, "y" changes it.
    monkeypatch.setattr("sys.stdin", Terminal("n\n"))
    assert main(["release", "m01", "--due", "Jan 16 2027 5pm"]) == 1
    assert stored_due(cohort) == datetime(2027, 1, 15, 23, 0)
    monkeypatch.setattr("sys.stdin", Terminal("y\n"))
    assert main(["release", "m01", "--due", "Jan 16 2027 5pm"]) == 0
    assert stored_due(cohort) == datetime(2027, 1, 16, 23, 0)
    capsys.readouterr()

    # --yes: no question; a day alone is its end, in the cohort's zone.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["release", "m01", "--due", "15 January 2027", "--yes"]) == 0
    assert stored_due(cohort) == datetime(2027, 1, 16, 5, 59)
    assert "Not asked" not in capsys.readouterr().out

    # A date in the past: released, with a warning that says what it means.
    assert main(["release", "m01", "--due", "2020-03-02 09:00", "--yes"]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("Warning: the due date Mon 2 Mar 2020, 09:00 America/Chicago")
    assert "in the past" in captured.err and "late" in captured.err
    assert "Released" in captured.out

    # Without --due, the due date stays as it is and is named.
    assert main(["release", "m01"]) == 0
    assert "due Mon 2 Mar 2020, 09:00 America/Chicago (15:00 UTC)" in capsys.readouterr().out
