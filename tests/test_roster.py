"""Roster validation: every problem reported at once, by row, and nothing imported until clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_course.facilitator.cohort import CohortError, create_cohort, list_cohorts
from privacy_course.facilitator.roster import RosterError, read_roster

GOOD = "id,first_name,last_name,email\nalice,Alice,Adams,alice@example.org\n"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_roster(tmp_path: Path):
    learners = read_roster(write(tmp_path, "\ufeff" + GOOD + "\n"))  # BOM and blank line are fine
    assert [(x.id, x.name, x.email) for x in learners] == [
        ("alice", "Alice Adams", "alice@example.org")]


def test_every_problem_reported_at_once_with_row_numbers(tmp_path: Path):
    text = ("id,first_name,last_name,email\n"
            "alice,Alice,Adams,alice@example.org\n"
            "alice,Alicia,Avery,alicia@example.org\n"      # row 3: duplicate id
            "bob,,Brown,bob@example\n"                      # row 4: blank first name, bad email
            ",Cara,Cole,cara@example.org\n"                 # row 5: blank id
            "dan smith,Dan,Smith,dan@example.org\n")        # row 6: id with a space
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, text))
    problems = err.value.problems
    assert "row 3: id 'alice' duplicates row 2" in problems
    assert "row 4: first_name is blank" in problems
    assert "row 4: email 'bob@example' is not a valid address" in problems
    assert "row 5: id is blank" in problems
    assert any(p.startswith("row 6: id 'dan smith'") for p in problems)
    assert "nothing was imported" in str(err.value)


def test_missing_columns_named(tmp_path: Path):
    with pytest.raises(RosterError, match="missing column.*email"):
        read_roster(write(tmp_path, "id,first_name,last_name\na,A,B\n"))


def test_empty_roster(tmp_path: Path):
    with pytest.raises(RosterError, match="no learners"):
        read_roster(write(tmp_path, "id,first_name,last_name,email\n"))


def test_ids_already_in_the_cohort_are_refused(tmp_path: Path):
    with pytest.raises(RosterError, match="already in the cohort"):
        read_roster(write(tmp_path, GOOD), existing_ids={"alice"})


def test_bad_roster_creates_no_cohort(course_copy: Path, tmp_path: Path):
    bad = write(tmp_path, "id,first_name,last_name,email\nalice,,Adams,nope\n")
    with pytest.raises(RosterError):
        create_cohort(course_copy, "spring", bad)
    assert list_cohorts(course_copy) == []
    assert not (course_copy / "cohorts" / "spring").exists()


def test_bad_cohort_name(course_copy: Path, tmp_path: Path):
    with pytest.raises(CohortError, match="lower-case"):
        create_cohort(course_copy, "Spring 2027", write(tmp_path, GOOD))
