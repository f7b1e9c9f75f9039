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


def write_bytes(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "roster.csv"
    path.write_bytes(data)
    return path


def test_spreadsheet_export_is_read_as_saved(tmp_path: Path):
    """What "CSV UTF-8" from a spreadsheet program writes: a byte-order mark, CRLF line
    endings, a header in words, blank rows at the end."""
    data = ("\ufeffID,First Name,Last Name,E-mail\r\n"
            "alice,Alice,Adams,Alice.Adams@District.Example.org\r\n"
            "bea,Bea,O'Brien,bea@district.example.org\r\n"
            ",,,\r\n\r\n,,,\r\n").encode("utf-8")
    learners = read_roster(write_bytes(tmp_path, data))
    assert [(x.id, x.first_name, x.last_name, x.email) for x in learners] == [
        ("alice", "Alice", "Adams", "alice.adams@district.example.org"),  # email lower-cased
        ("bea", "Bea", "O'Brien", "bea@district.example.org")]


@pytest.mark.parametrize("header", [
    "id,first name,last name,Email Address",
    " Id , FIRST-NAME ,Last_Name, email ",
    "Username,Given Name,Surname,Mail",
    "email,last_name,id,first_name",  # any order
])
def test_header_spellings(tmp_path: Path, header: str):
    columns = [c.strip().lower().replace(" ", "_").replace("-", "_") for c in header.split(",")]
    values = {"id": "alice", "first_name": "Alice", "last_name": "Adams", "email": "a@example.org"}
    key = {"username": "id", "given_name": "first_name", "surname": "last_name", "mail": "email",
           "email_address": "email"}
    row = ",".join(values[key.get(c, c)] for c in columns)
    learners = read_roster(write(tmp_path, f"{header}\n{row}\n"))
    assert [(x.id, x.name, x.email) for x in learners] == [
        ("alice", "Alice Adams", "a@example.org")]


def test_line_breaks_in_quoted_cells_keep_the_spreadsheet_row_numbers(tmp_path: Path):
    """A cell with line breaks (a notes column, an address) is one cell of one row, and the
    rows after it keep the numbers a spreadsheet shows them under."""
    data = (b"id,first_name,last_name,email,notes\r\n"
            b'alice,Alice,Adams,alice@example.org,"Principal,\r\nNorth School\r\n(acting)"\r\n'
            b"bea,,Brooks,bea@example.org,\r\n"                     # row 3: blank first name
            b'carl,Carl,Cruz,carl@example.org,"two\nlines"\r\n'
            b"dana,Dana,Diaz,nope,\r\n")                            # row 5: bad email
    with pytest.raises(RosterError) as err:
        read_roster(write_bytes(tmp_path, data))
    assert err.value.problems == ["row 3: first_name is blank",
                                  "row 5: email 'nope' is not a valid address"]


def test_unicode_line_separators_in_a_cell_do_not_split_its_row(tmp_path: Path):
    """Text pasted into a cell from a word processor can carry U+2028 (line separator) or a
    form feed, which CSV does not quote: they are not row breaks, so rows keep their numbers."""
    text = ("id,first_name,last_name,email,notes\n"
            "alice,Alice,Adams,alice@example.org,pasted\u2028from a letter\x0cpage two\n"
            "bea,,Brooks,bea@example.org,\n")                       # row 3: blank first name
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, text))
    assert err.value.problems == ["row 3: first_name is blank"]


def test_a_quoted_line_break_in_a_name_is_a_problem(tmp_path: Path):
    """Names go on certificates and reports as typed; one split over two lines is a slip."""
    text = 'id,first_name,last_name,email\nalice,"Alice\nMay",Adams,alice@example.org\n'
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, text))
    assert err.value.problems == ["row 2: first_name has a line break in it"]


def test_semicolon_file_is_read(tmp_path: Path):
    """Excel in many European locales saves "CSV" with semicolons between columns."""
    data = ("\ufeffID;First Name;Last Name;Email\r\n"
            "alice;Alice;Adams;Alice@Example.org\r\n"
            'bea;"Bea; Beatrice";Brooks;bea@example.org\r\n').encode("utf-8")
    learners = read_roster(write_bytes(tmp_path, data))
    assert [(x.id, x.first_name, x.email) for x in learners] == [
        ("alice", "Alice", "alice@example.org"), ("bea", "Bea; Beatrice", "bea@example.org")]


def test_tab_separated_file_is_read(tmp_path: Path):
    text = "id\tFirst Name\tlast_name\temail\nalice\tAlice\tAdams, Jr.\ta@example.org\n"
    learners = read_roster(write(tmp_path, text))
    assert [(x.id, x.name, x.email) for x in learners] == [
        ("alice", "Alice Adams, Jr.", "a@example.org")]


def test_the_header_named_in_the_issue_is_read(tmp_path: Path):
    learners = read_roster(write(tmp_path, "ID,First Name,Last Name,Email\n"
                                           "a1,Ana,Álvarez,ANA@Example.org\n"))
    assert [(x.id, x.first_name, x.last_name, x.email) for x in learners] == [
        ("a1", "Ana", "Álvarez", "ana@example.org")]


def test_a_wrong_header_says_what_was_read_and_with_which_separator(tmp_path: Path):
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, "Student;Name;Mail\nalice;Alice Adams;a@example.org\n"))
    (problem,) = err.value.problems
    assert problem.startswith(
        'row 1 (header): missing column(s) id, first_name, last_name; found columns '
        '"Student", "Name", "Mail" (read with semicolons (;) between columns); expected id, '
        "first_name, last_name, email")


def test_an_extra_separator_in_a_row_is_named(tmp_path: Path):
    text = "id;first_name;last_name;email\nalice;Alice;Adams; Jr.;alice@example.org\n"
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, text))
    assert err.value.problems[0].startswith(
        "row 2: 5 cells, but the header has 4 columns; a value with a semicolon in it must be "
        "in quotes")


def test_unusable_header_says_what_it_found_and_expected(tmp_path: Path):
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, "Student,Name,Mail\nalice,Alice Adams,a@example.org\n"))
    (problem,) = err.value.problems
    assert problem.startswith("row 1 (header): missing column(s) id, first_name, last_name; "
                              'found columns "Student", "Name", "Mail" (read with commas '
                              "between columns); expected id, first_name, last_name, email")


def test_two_columns_for_one_field(tmp_path: Path):
    text = "id,first_name,last_name,Email,E-mail\nalice,Alice,Adams,a@example.org,\n"
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, text))
    assert err.value.problems == [
        'row 1 (header): columns "Email" and "E-mail" both mean email; keep one of them']


def test_duplicate_email_is_found_whatever_its_case(tmp_path: Path):
    text = ("id,first_name,last_name,email\n"
            "alice,Alice,Adams,alice@example.org\n"
            "bob,Bob,Brown,Bob@Example.org\n"
            "carl,Carl,Cruz,carl@example.org\n"
            "bobby,Bob,Brown,bob@example.org\n")
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, text))
    assert err.value.problems == ["row 5: email bob@example.org duplicates row 3"]


def test_emails_already_in_the_cohort_are_refused(tmp_path: Path):
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, GOOD.replace("alice@", "ALICE@")),
                    existing_emails={"Alice@Example.org"})
    assert err.value.problems == ["row 2: email ALICE@example.org is already in the cohort"]


def test_unquoted_comma_is_reported(tmp_path: Path):
    text = "id,first_name,last_name,email\nalice,Alice,Adams, Jr.,alice@example.org\n"
    with pytest.raises(RosterError) as err:
        read_roster(write(tmp_path, text))
    assert err.value.problems[0].startswith(
        "row 2: 5 cells, but the header has 4 columns; a value with a comma in it must be in "
        "quotes")


def test_old_excel_encoding_is_one_clear_sentence(tmp_path: Path):
    text = "id,first_name,last_name,email\nzoe,Zoë,Zambrano,zoe@example.org\n"
    with pytest.raises(RosterError) as err:
        read_roster(write_bytes(tmp_path, text.encode("cp1252")))
    assert err.value.problems == [
        'roster.csv is not saved as UTF-8 text (older versions of Excel save CSV files in an '
        'encoding that cannot be read here): open it in your spreadsheet program and save it '
        'again as "CSV UTF-8"']
    assert "Traceback" not in str(err.value)


def test_a_file_with_nothing_in_it(tmp_path: Path):
    with pytest.raises(RosterError, match="the file is empty; expected a header row"):
        read_roster(write(tmp_path, "\n\n"))
