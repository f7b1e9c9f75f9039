"""Rosters: who is in a cohort. A roster is a CSV file with the columns `id`, `first_name`,
`last_name` and `email`, one learner a row.

Every problem in a file is found and reported at once, by row number (as a spreadsheet shows
it: the header is row 1), and nothing is imported until the file is clean, so a facilitator
fixes the file in one pass and a half-imported cohort never exists.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("id", "first_name", "last_name", "email")
LEARNER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
# Deliberately simple: one @, no spaces, a dot in the domain. It catches typing slips without
# rejecting unusual but valid addresses.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


def read_roster(path: Path | str, existing_ids: set[str] | None = None) -> list[Learner]:
    """Read and validate a roster; raise RosterError listing every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # spreadsheets often add a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(path, [f"cannot be read as UTF-8 text: {exc}"]) from exc
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise RosterError(path, [f"row 1 (header): missing column(s) {', '.join(missing)}; "
                                 f"expected {', '.join(COLUMNS)}"])
    problems: list[str] = []
    learners: list[Learner] = []
    first_row: dict[str, int] = {}
    for row_number, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue  # blank lines are harmless
        learner_id = row.get("id", "")
        if not learner_id:
            problems.append(f"row {row_number}: id is blank")
        elif not LEARNER_ID.match(learner_id):
            problems.append(f"row {row_number}: id {learner_id!r} may contain only letters, "
                            "digits, '.', '_' and '-' (at most 64, no spaces)")
        elif learner_id in first_row:
            problems.append(f"row {row_number}: id {learner_id!r} duplicates row "
                            f"{first_row[learner_id]}")
        elif existing_ids and learner_id in existing_ids:
            problems.append(f"row {row_number}: id {learner_id!r} is already in the cohort")
        else:
            first_row[learner_id] = row_number
        for column in ("first_name", "last_name"):
            if not row.get(column):
                problems.append(f"row {row_number}: {column} is blank")
        email = row.get("email", "")
        if not email:
            problems.append(f"row {row_number}: email is blank")
        elif not EMAIL.match(email):
            problems.append(f"row {row_number}: email {email!r} is not a valid address")
        learners.append(Learner(learner_id, row.get("first_name", ""), row.get("last_name", ""),
                                email))
    if problems:
        raise RosterError(path, problems)
    if not learners:
        raise RosterError(path, ["the roster has no learners"])
    return learners
