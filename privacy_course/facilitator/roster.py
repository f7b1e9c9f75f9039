"""Rosters: who is in a cohort. A roster is a CSV file with the columns `id`, `first_name`,
`last_name` and `email`, one learner a row.

Facilitators export rosters from spreadsheets and student-information systems, so the file is
read the way those write it: a UTF-8 byte-order mark, Windows line endings, cells in quotes with
line breaks in them, headers such as "ID,First Name,Last Name,E-mail", blank rows at the end,
extra columns (ignored), and commas, semicolons (Excel in many European locales) or tabs ("Text
(Tab delimited)") between columns: the separator is the one under which the header row names
the most of the expected columns. What cannot be read is explained in the facilitator's terms,
saying what was found: the header as read and the separator it was read with, or a file saved
in an old Excel encoding.

Every problem in a file is found and reported at once, by row number as a spreadsheet shows it
(the header is row 1, and a cell with a line break in it does not make its row two rows), and
nothing is imported until the file is clean, so a facilitator fixes the file in one pass and a
half-imported cohort never exists. Email addresses are compared without regard to case, and
stored lower-cased, so one person cannot join a cohort twice as Bob@ and bob@.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("id", "first_name", "last_name", "email")
LEARNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Deliberately simple: one @, no spaces, a dot in the domain. It catches typing slips without
# rejecting unusual but valid addresses.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Other names spreadsheets and student-information systems give the columns, after
# `header_key` has lower-cased them and turned spaces and hyphens into underscores.
HEADER_SYNONYMS = {
    "learner_id": "id", "student_id": "id", "staff_id": "id", "user_id": "id", "userid": "id",
    "username": "id", "user_name": "id", "login": "id",
    "first": "first_name", "firstname": "first_name", "given_name": "first_name",
    "forename": "first_name",
    "last": "last_name", "lastname": "last_name", "surname": "last_name",
    "family_name": "last_name",
    "e_mail": "email", "email_address": "email", "e_mail_address": "email", "mail": "email",
}
# Column separators a roster may use, and how a message names each.
SEPARATORS = {",": "commas", ";": "semicolons (;)", "\t": "tabs"}
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
NOT_UTF8 = ('{name} is not saved as UTF-8 text (older versions of Excel save CSV files in an '
            'encoding that cannot be read here): open it in your spreadsheet program and save '
            'it again as "CSV UTF-8"')


class RosterError(ValueError):
    """A roster has problems. `problems` lists each one with its file and row."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        listing = "\n  ".join(problems)
        super().__init__(f"{path}: {len(problems)} problem(s), nothing was imported:\n  {listing}")


@dataclass(frozen=True)
class Learner:
    id: str
    first_name: str
    last_name: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def header_key(cell: str) -> str:
    """The column a header cell names: "First Name", " first-name " and "E-mail" are
    `first_name`, `first_name` and `email`, so a facilitator need not retype an export's
    header."""
    key = re.sub(r"[\s-]+", "_", cell.strip().lower())
    return HEADER_SYNONYMS.get(key, key)


def _separator(text: str) -> str:
    """The column separator: the one under which the first non-blank line names the most
    expected columns (then the one that splits it into the most cells; commas on a tie)."""
    line = next((ln for ln in text.splitlines() if ln.strip(" ,;\t")), "")

    def score(sep: str) -> tuple[int, int]:
        cells = next(csv.reader([line], delimiter=sep), [])
        return len({header_key(c) for c in cells} & set(COLUMNS)), len(cells)

    return max(SEPARATORS, key=score)


def _read_rows(path: Path) -> tuple[list[list[str]], str]:
    """Every record of the file as a list of cells (record i is the spreadsheet's row i + 1),
    and the separator it was read with.

    The csv module reads the whole text (not split lines), so a quoted cell with a line break
    in it stays one cell of one row."""
    rows: list[list[str]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            text = fh.read()
    except UnicodeDecodeError as exc:
        raise RosterError(path, [NOT_UTF8.format(name=path.name)]) from exc
    except OSError as exc:
        raise RosterError(path, [f"the file cannot be opened: {exc.strerror or exc}"]) from exc
    separator = _separator(text)
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=separator):
            rows.append(cells)
    except csv.Error as exc:
        raise RosterError(path, [f"row {len(rows) + 1}: cannot be read as CSV ({exc}); open the "
                                 'file in your spreadsheet program and save it again as '
                                 '"CSV UTF-8"']) from exc
    return rows, separator


def _is_blank(cells: list[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _column_positions(path: Path, header: list[str], row_number: int,
                      separator: str) -> dict[str, int]:
    """Where each of COLUMNS is in the header; RosterError saying what was found otherwise."""
    where = f"row {row_number} (header)"
    positions: dict[str, int] = {}
    problems: list[str] = []
    for index, cell in enumerate(header):
        key = header_key(cell)
        if key not in COLUMNS:
            continue
        if key in positions:
            problems.append(f'{where}: columns "{header[positions[key]].strip()}" and '
                            f'"{cell.strip()}" both mean {key}; keep one of them')
        else:
            positions[key] = index
    missing = [c for c in COLUMNS if c not in positions]
    if missing:
        found = ", ".join(f'"{cell.strip()}"' for cell in header)
        problems.append(f"{where}: missing column(s) {', '.join(missing)}; found columns "
                        f"{found} (read with {SEPARATORS[separator]} between columns); "
                        f"expected {', '.join(COLUMNS)} (headers such as \"First Name\" or "
                        '"E-mail" are fine too)')
    if problems:
        raise RosterError(path, problems)
    return positions


def read_roster(path: Path | str, existing_ids: set[str] | None = None,
                existing_emails: set[str] | None = None) -> list[Learner]:
    """Read and validate a roster; raise RosterError listing every problem found.

    `existing_ids` and `existing_emails` are the learners already in the cohort (when adding
    to one): a row repeating one of them is a problem, like a repeat within the file."""
    path = Path(path)
    rows, separator = _read_rows(path)
    start = next((i for i, cells in enumerate(rows) if not _is_blank(cells)), None)
    if start is None:
        raise RosterError(path, [f"the file is empty; expected a header row with "
                                 f"{', '.join(COLUMNS)}, then one learner a row"])
    header = rows[start]
    positions = _column_positions(path, header, start + 1, separator)
    taken_emails = {e.lower() for e in existing_emails or () if e}
    problems: list[str] = []
    learners: list[Learner] = []
    id_row: dict[str, int] = {}
    email_row: dict[str, int] = {}
    for row_number, cells in enumerate(rows[start + 1:], start=start + 2):
        if _is_blank(cells):
            continue  # blank rows, trailing ones above all, are harmless
        if not _is_blank(cells[len(header):]):
            problems.append(f"row {row_number}: {len(cells)} cells, but the header has "
                            f"{len(header)} columns; a value with a {SEPARATOR_NAMES[separator]} "
                            "in it must be in quotes (saving from a spreadsheet program does "
                            "this)")
        row = {c: cells[i].strip() if i < len(cells) else "" for c, i in positions.items()}
        learner_id = row["id"]
        if not learner_id:
            problems.append(f"row {row_number}: id is blank")
        elif not LEARNER_ID.match(learner_id):
            problems.append(f"row {row_number}: id {learner_id!r} may contain only letters, "
                            "digits, '.', '_' and '-' (at most 64, no spaces)")
        elif learner_id in id_row:
            problems.append(f"row {row_number}: id {learner_id!r} duplicates row "
                            f"{id_row[learner_id]}")
        elif existing_ids and learner_id in existing_ids:
            problems.append(f"row {row_number}: id {learner_id!r} is already in the cohort")
        else:
            id_row[learner_id] = row_number
        for column in ("first_name", "last_name"):
            if not row[column]:
                problems.append(f"row {row_number}: {column} is blank")
            elif len(row[column].splitlines()) > 1:  # any line break, U+2028 too
                problems.append(f"row {row_number}: {column} has a line break in it")
        email = row["email"]
        key = email.lower()
        if not email:
            problems.append(f"row {row_number}: email is blank")
        elif not EMAIL.match(email):
            problems.append(f"row {row_number}: email {email!r} is not a valid address")
        elif key in email_row:
            problems.append(f"row {row_number}: email {email} duplicates row {email_row[key]}")
        elif key in taken_emails:
            problems.append(f"row {row_number}: email {email} is already in the cohort")
        else:
            email_row[key] = row_number
        learners.append(Learner(learner_id, row["first_name"], row["last_name"], key))
    if problems:
        raise RosterError(path, problems)
    if not learners:
        raise RosterError(path, ["the roster has no learners"])
    return learners
