"""Currency: a module may not claim to be current as of a month earlier than the newest month in
which one of its sources was verified, so the "current as of" line and the sources cannot drift
apart (issue 16). Each dated source in a module's Sources list ends with "(verified YYYY-MM)"."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

from privacy_course.authoring.build import module_ids

from .conftest import ROOT

MODULES = module_ids(ROOT)
MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december"]
CURRENT_AS_OF = re.compile(r"current\s+as\s+of\s+([A-Za-z]+)\s+(\d{4})", re.IGNORECASE)
VERIFIED = re.compile(r"\(verified\s+(\d{4})-(\d{2})\)")


def current_as_of(text: str, where: str) -> tuple[int, int]:
    """(year, month) of the first "current as of <Month YYYY>" in `text`."""
    found = CURRENT_AS_OF.search(text)
    assert found, f"{where}: no 'current as of <Month YYYY>'"
    month = found.group(1).lower()
    assert month in MONTHS, f"{where}: 'current as of {found.group(1)}' is not a month name"
    return int(found.group(2)), MONTHS.index(month) + 1


def verified_months(text: str, where: str) -> list[tuple[int, int]]:
    """Every "(verified YYYY-MM)" in `text`, as (year, month)."""
    months = [(int(y), int(m)) for y, m in VERIFIED.findall(text)]
    bad = [f"{y}-{m:02d}" for y, m in months if not 1 <= m <= 12]
    assert not bad, f"{where}: '(verified ...)' with no such month: {bad}"
    return months


def header_text(path: Path) -> str:
    """The notebook's header cell (grade id "header"), or its first markdown cell."""
    cells = [c for c in jupytext.read(path, fmt="md:myst").cells if c.cell_type == "markdown"]
    assert cells, f"{path.name}: no markdown cell"
    for cell in cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "header":
            return cell.source
    return cells[0].source


def newest_verified(module_id: str) -> tuple[int, int]:
    path = ROOT / "modules" / module_id / f"{module_id}.md"
    months = verified_months(path.read_text(encoding="utf-8"), path.name)
    assert months, f"{module_id}: no source carries '(verified YYYY-MM)'"
    return max(months)


def label(year_month: tuple[int, int]) -> str:
    return f"{MONTHS[year_month[1] - 1].capitalize()} {year_month[0]}"


def test_parsers_read_the_convention() -> None:
    assert current_as_of("*Content current as of\nDecember 2026.*", "x") == (2026, 12)
    assert verified_months("1. A. (verified 2026-11)\n2. B. (verified 2026-12)", "x") == [
        (2026, 11), (2026, 12)]
    with pytest.raises(AssertionError):
        current_as_of("Content current as of Smarch 2026.", "x")
    with pytest.raises(AssertionError):
        verified_months("(verified 2026-13)", "x")


@pytest.mark.parametrize("module_id", MODULES)
def test_module_current_as_of_is_not_older_than_its_sources(module_id: str) -> None:
    path = ROOT / "modules" / module_id / f"{module_id}.md"
    current = current_as_of(header_text(path), f"{module_id}: header")
    newest = newest_verified(module_id)
    assert current >= newest, (
        f"{module_id}: header says current as of {label(current)}, but a source was verified "
        f"in {label(newest)} ({newest[0]}-{newest[1]:02d})"
    )


@pytest.mark.parametrize("module_id", MODULES)
def test_facilitator_current_as_of_is_not_older_than_the_sources(module_id: str) -> None:
    path = ROOT / "modules" / module_id / "facilitator.md"
    current = current_as_of(path.read_text(encoding="utf-8"), f"{module_id}: facilitator.md")
    newest = newest_verified(module_id)
    assert current >= newest, (
        f"{module_id}: facilitator.md says current as of {label(current)}, but a source of the "
        f"module was verified in {label(newest)} ({newest[0]}-{newest[1]:02d})"
    )
