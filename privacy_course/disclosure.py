"""Disclosure avoidance for the hands-on exercise: k-anonymity, small-cell suppression, checkers.

A notebook imports this module explicitly (`from privacy_course import disclosure`); the package
itself never does, so `import privacy_course` stays light and pandas loads only here.

Two kinds of release are covered:

- **row-level files** (one line per student, e.g. for a researcher): `k_anonymity` measures the
  smallest group of students who share the same values of the quasi-identifiers, the facts an
  outsider could know or look up (birth date, sex, ZIP code, school, grade);
- **published tables** of counts in long format, one line per cell: the columns named in
  `row_columns` say which table row a cell is in, `category_column` says which group it counts,
  and the line whose category is `total_label` is the row's total. `suppress_small_cells` hides
  small counts (primary suppression) and then hides more counts where a hidden one could be
  worked out from the row total (complementary suppression).

The `check_*` functions are what the exercise's graded cells call. Like `privacy_course.grading`,
each returns None when the release passes and `Score(0.0, message)` when it does not, and prints
one plain sentence to stdout either way (`quiet=True` skips the sentence, for a second call in the
same cell). They never raise and never write to stderr, so a learner sees a sentence, never a
traceback.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd

from .grading import Score

# Columns of the synthetic district (privacy_course.synthetic) that identify a student directly:
# the student's name, address and student number are all on the list in FERPA's definition of
# personally identifiable information (34 CFR 99.3).
DIRECT_IDENTIFIERS: tuple[str, ...] = ("student_id", "first_name", "last_name", "street_address")

# The shape of the published table in the exercise.
ROW_COLUMNS: tuple[str, ...] = ("school", "grade_band")
CATEGORY_COLUMN = "group"
TOTAL_LABEL = "All students"


def _result(ok: bool, message: str, quiet: bool = False) -> Score | None:
    if not quiet:
        print(message)
    return None if ok else Score(0.0, message)


def _is_frame(obj: Any) -> bool:
    return isinstance(obj, pd.DataFrame)


def _not_a_table(what: str, quiet: bool = False) -> Score:
    return _result(False, f"There is no {what} to check yet: run the cells above first.", quiet)


def _never_raises(check: Callable[..., Score | None]) -> Callable[..., Score | None]:
    """Make a checker safe for a graded cell: warnings are silenced (they would go to stderr)
    and an unexpected error becomes a 0 score with one plain sentence instead of a traceback."""

    @functools.wraps(check)
    def safe(*args: Any, **kwargs: Any) -> Score | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return check(*args, **kwargs)
        except Exception as exc:  # a graded cell must never show a traceback
            return _result(False, f"This could not be checked ({type(exc).__name__}): run the "
                           "cells above again, from the settings cell down.",
                           bool(kwargs.get("quiet", False)))

    return safe


# -- row-level files ---------------------------------------------------------------------------

def k_anonymity(df: pd.DataFrame, quasi_identifiers: Iterable[str]) -> int:
    """The k of `df`: the size of the smallest group of rows that share the same values of the
    quasi-identifiers. k = 1 means at least one student is unique on them.

    A quasi-identifier that `df` no longer has cannot single anyone out, so it is skipped; with
    none left, the whole file is one group. Missing values count as a value of their own. An
    empty file has k = 0."""
    if len(df) == 0:
        return 0
    present = [c for c in quasi_identifiers if c in df.columns]
    if not present:
        return len(df)
    return int(df.groupby(present, dropna=False, observed=True).size().min())


@_never_raises
def check_direct_identifiers_removed(
    df: pd.DataFrame,
    identifiers: Sequence[str] = DIRECT_IDENTIFIERS,
    required: Sequence[str] = (),
    quiet: bool = False,
) -> Score | None:
    """Pass when `df` has none of the direct-identifier columns and still has every column in
    `required` (the columns the recipient actually needs). `quiet` skips the printed sentence
    (the returned Score still carries it)."""
    if not _is_frame(df):
        return _not_a_table("file", quiet)
    left = [c for c in identifiers if c in df.columns]
    if left:
        return _result(False, "Direct identifiers are still in the file: " + ", ".join(left)
                       + ". Add them to DROP_COLUMNS.", quiet)
    lost = [c for c in required if c not in df.columns]
    if lost:
        return _result(False, "The file no longer has columns the study needs: "
                       + ", ".join(lost) + ". Take them out of DROP_COLUMNS.", quiet)
    return _result(True, "Direct identifiers removed, and the columns the study needs are kept.",
                   quiet)


@_never_raises
def check_k_anonymous(
    df: pd.DataFrame, quasi_identifiers: Sequence[str], k: int = 5, quiet: bool = False
) -> Score | None:
    """Pass when every combination of the quasi-identifiers in `df` is shared by at least `k`
    rows (see `k_anonymity`)."""
    if not _is_frame(df):
        return _not_a_table("file", quiet)
    present = [c for c in quasi_identifiers if c in df.columns]
    smallest = k_anonymity(df, present)
    names = ", ".join(present) or "none"
    if smallest >= k:
        return _result(True, f"k = {smallest}: every combination of {names} is shared by at "
                       f"least {k} students.", quiet)
    groups = df.groupby(present, dropna=False, observed=True).size() if present else None
    rare = int((groups < k).sum()) if groups is not None else 1
    return _result(False, f"k = {smallest}: {rare} combination(s) of {names} are shared by "
                   f"fewer than {k} students. Coarsen or drop more quasi-identifiers.", quiet)


# -- published tables --------------------------------------------------------------------------

def _rows(table: pd.DataFrame, row_columns: Sequence[str]) -> Iterable[pd.Index]:
    """The index labels of each table row's cells (all of them if there are no row columns)."""
    if not row_columns:
        yield table.index
        return
    for _key, part in table.groupby(list(row_columns), sort=False, dropna=False):
        yield part.index


def _pinned(hidden: int, hidden_sum: int, min_cell: int) -> bool:
    """Could someone who knows a row's total, its shown cells and the rule work out the value of
    a hidden cell? The total minus the shown cells gives the sum of the `hidden` cells. That
    pins them down when only one cell is hidden, and when the sum is the least (all zero) or
    the most (all `min_cell` - 1) that that many small counts can add up to."""
    if hidden == 0:
        return False
    return hidden == 1 or hidden_sum == 0 or hidden_sum == hidden * (min_cell - 1)


def suppress_small_cells(
    table: pd.DataFrame,
    count_column: str,
    min_cell: int,
    row_columns: Sequence[str] = ROW_COLUMNS,
    category_column: str = CATEGORY_COLUMN,
    total_label: str = TOTAL_LABEL,
) -> pd.DataFrame:
    """Hide counts below `min_cell` so they cannot be published, then hide more so that no hidden
    count can be worked out from its row's total.

    `table` is in long format: one line per cell, with `count_column` holding the count. The
    returned copy has the hidden counts as missing values (<NA>) and a column `suppressed`
    saying why: "" (shown), "small" (primary suppression) or "complementary". That column is
    for the district's own review: drop it before publishing, since it tells readers which
    hidden counts are large.

    1. Primary: every count from 0 up to `min_cell` - 1 is hidden, zero included, so that a
       hidden count could be anything in that range. A row total below `min_cell` is hidden
       too.
    2. Complementary: in a row whose total is still shown, while the hidden cells could be
       worked out (a single hidden cell, or hidden cells that can only be all zero or all
       `min_cell` - 1), the smallest shown cell of that row is hidden as well. If no cell is
       left to hide, the total is hidden.

    The rule protects each row against its own total. A count that also appears in another
    table (a column total, a district summary, last year's report) needs the same care there.
    `min_cell` of 0 or 1 hides nothing."""
    try:
        min_cell = int(min_cell)
    except (TypeError, ValueError):
        raise ValueError(f"The minimum cell size must be a whole number, such as 10, not "
                         f"{min_cell!r}.") from None
    out = table.copy()
    counts = pd.to_numeric(out[count_column], errors="coerce")
    out["suppressed"] = ""
    if min_cell <= 1:
        out[count_column] = counts.astype("Int64")
        return out
    small = counts.notna() & (counts < min_cell)
    out.loc[small, "suppressed"] = "small"
    is_total = (out[category_column] == total_label) if category_column in out else (
        pd.Series(False, index=out.index))
    for index in _rows(out, row_columns):
        totals = [i for i in index if is_total[i]]
        cells = [i for i in index if not is_total[i]]
        if not totals or out.at[totals[0], "suppressed"]:
            continue
        while True:
            hidden = [int(counts[i]) for i in cells if out.at[i, "suppressed"]]
            if not _pinned(len(hidden), sum(hidden), min_cell):
                break
            shown = [i for i in cells if not out.at[i, "suppressed"]]
            if shown:
                pick = min(shown, key=lambda i: (counts[i], str(i)))
                out.at[pick, "suppressed"] = "complementary"
            else:
                out.at[totals[0], "suppressed"] = "complementary"
                break
    out[count_column] = counts.where(out["suppressed"] == "").astype("Int64")
    return out


def recoverable_rows(
    table: pd.DataFrame,
    count_column: str,
    min_cell: int,
    row_columns: Sequence[str] = ROW_COLUMNS,
    category_column: str = CATEGORY_COLUMN,
    total_label: str = TOTAL_LABEL,
) -> list[str]:
    """Rows of a published table in which a hidden count can be worked out from the shown total,
    named by their `row_columns` values: rows with exactly one hidden cell, and rows whose hidden
    cells must all be zero (the total equals the sum of the shown cells). `min_cell` is not
    needed for these two tests; it is accepted so that all table functions read alike."""
    found: list[str] = []
    counts = pd.to_numeric(table[count_column], errors="coerce")
    if category_column not in table:
        return found
    is_total = table[category_column] == total_label
    for index in _rows(table, row_columns):
        totals = [i for i in index if is_total[i] and pd.notna(counts[i])]
        if not totals:
            continue
        cells = [i for i in index if not is_total[i]]
        hidden = [i for i in cells if pd.isna(counts[i])]
        if not hidden:
            continue
        rest = int(counts[totals[0]]) - int(sum(counts[i] for i in cells if pd.notna(counts[i])))
        if len(hidden) == 1 or rest == 0:
            label = " / ".join(str(table.at[index[0], c]) for c in row_columns if c in table)
            found.append(label or "the table")
    return found


@_never_raises
def check_min_cell(
    table: pd.DataFrame,
    count_column: str,
    min_cell: int = 10,
    row_columns: Sequence[str] = ROW_COLUMNS,
    category_column: str = CATEGORY_COLUMN,
    total_label: str = TOTAL_LABEL,
    quiet: bool = False,
) -> Score | None:
    """Pass when no published count is below `min_cell` and no hidden count can be worked out
    from a row total (primary and complementary suppression both done)."""
    if not _is_frame(table) or count_column not in table:
        return _not_a_table("published table", quiet)
    counts = pd.to_numeric(table[count_column], errors="coerce")
    small = int((counts.notna() & (counts < min_cell)).sum())
    if small:
        return _result(False, f"{small} published count(s) are below {min_cell}. Set "
                       f"MIN_CELL_SIZE to at least {min_cell}.", quiet)
    open_rows = recoverable_rows(table, count_column, min_cell, row_columns, category_column,
                                 total_label)
    if open_rows:
        return _result(False, "A hidden count can be worked out from the total in: "
                       + "; ".join(open_rows) + ". Hide one more cell in each of those rows.",
                       quiet)
    return _result(True, f"Every published count is at least {min_cell}, and no hidden count "
                   "can be worked out from a row total.", quiet)


@_never_raises
def check_detail_kept(
    table: pd.DataFrame,
    count_column: str,
    original: pd.DataFrame,
    min_cell: int = 10,
    min_share: float = 0.8,
    category_column: str = CATEGORY_COLUMN,
    total_label: str = TOTAL_LABEL,
    quiet: bool = False,
) -> Score | None:
    """Pass when the published `table` is safe (no count below `min_cell` is shown) and still
    useful: the published group counts (totals not included) add up to at least `min_share` of
    the students in the `original`, unsuppressed table. A minimum far above what the rules
    require hides most of the detail that made the table worth publishing."""
    if not _is_frame(table) or count_column not in table or not _is_frame(original):
        return _not_a_table("published table", quiet)
    counts = pd.to_numeric(table[count_column], errors="coerce")
    if bool((counts.notna() & (counts < min_cell)).any()):
        return _result(False, f"The table still shows counts below {min_cell}, so it is not "
                       "ready to publish yet: fix MIN_CELL_SIZE first.", quiet)
    before = pd.to_numeric(original[count_column], errors="coerce")
    if category_column in table and category_column in original:
        counts = counts[table[category_column] != total_label]
        before = before[original[category_column] != total_label]
    everyone = float(before.sum())
    if everyone <= 0:
        return _not_a_table("published table", quiet)
    share = float(counts.sum()) / everyone
    if share >= min_share:
        return _result(True, f"{share:.0%} of students are counted in a published group count: "
                       "the table is still useful.", quiet)
    return _result(False, f"Only {share:.0%} of students are counted in a published group count "
                   f"(at least {min_share:.0%} expected). Is MIN_CELL_SIZE higher than your "
                   "rules require?", quiet)


def show_table(
    table: pd.DataFrame,
    count_column: str,
    row_columns: Sequence[str] = ROW_COLUMNS,
    category_column: str = CATEGORY_COLUMN,
    mark: str = "*",
) -> pd.DataFrame:
    """A published long table as it would look in a report: one row per table row, one column
    per group (in order of first appearance), hidden counts shown as `mark`."""
    wide = table.pivot(index=list(row_columns), columns=category_column, values=count_column)
    order = list(dict.fromkeys(table[category_column]))
    wide = wide[order].astype(object)
    wide = wide.where(wide.notna(), mark)
    wide.columns.name = None
    return wide
