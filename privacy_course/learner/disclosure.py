"""Disclosure avoidance for the hands-on exercise: k-anonymity, l-diversity, small-cell
suppression, top and bottom coding, and the checkers that graded cells call.

A notebook imports this module explicitly (`from privacy_course import disclosure`); the package
itself never does, so `import privacy_course` stays light and pandas loads only here.

Two kinds of release are covered:

- **row-level files** (one line per student, e.g. for a researcher): `k_anonymity` measures the
  smallest group of students who share the same values of the quasi-identifiers, the facts an
  outsider could know or look up (birth date, sex, ZIP code, school, grade; test scores and
  attendance too, for anyone who works with the students). `l_diversity` measures the fewest
  different values of a sensitive fact (such as IEP status) inside any such group: a group of
  look-alike students who all share one value reveals that value for each of them (attribute
  disclosure), however large the group is.
- **published tables** of counts in long format, one line per cell: the columns named in
  `row_columns` say which table row a cell is in, `category_column` says which group it counts,
  and the line whose category is `total_label` is the row's total. A table is judged together
  with what is already public: `column_totals` are counts for each group summed over all the
  table's rows that were published elsewhere (for example the state's district-wide figures).
  `suppress_small_cells` hides small counts (primary suppression) and then hides more
  (complementary suppression) until no hidden count can be worked out from the row totals, the
  column totals or both together; `recoverable_cells` is the audit behind it.

The audit treats the question exactly: with the shown counts fixed and every hidden count a
number of zero or more, it finds the smallest and largest value each hidden count could take
(a small linear program per count). A hidden count is "worked out" when the two are equal. This
covers one hidden cell in a line, hidden cells that must all be zero, and combinations of rows
and columns that no single line reveals. It assumes readers know only that a hidden count is zero
or more, so a published "*" should mean "not shown to protect privacy", never "fewer than 10".

The `check_*` functions are what the exercise's graded cells call. Like
`privacy_course.learner.checks`, each returns None when the release passes and
`Score(0.0, message)` when it does not, and prints
one plain sentence to stdout either way (`quiet=True` skips the sentence, for a second call in the
same cell). They never raise and never write to stderr, so a learner sees a sentence, never a
traceback.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from privacy_course.learner.checks import Score

# Columns of the synthetic district (privacy_course.authoring.synthetic) that identify a student
# directly: the student's name, address and student number are all on the list in FERPA's
# definition of personally identifiable information (34 CFR 99.3).
DIRECT_IDENTIFIERS: tuple[str, ...] = ("student_id", "first_name", "last_name", "street_address")

# The shape of the published table in the exercise: one row per school.
ROW_COLUMNS: tuple[str, ...] = ("school",)
CATEGORY_COLUMN = "group"
TOTAL_LABEL = "All students"

# Top and bottom coding: the width of the range at each end of 0-100%, by group size. Each width
# is the smallest of these round numbers that is at least one student's share of the group, so
# that the range always holds at least two possible counts ("none" and "one", or "all" and "all
# but one") and a reader cannot tell them apart.
CODING_WIDTHS: tuple[int, ...] = (1, 2, 5, 10, 20, 25, 50)

_EPS = 1e-7


def _result(ok: bool, message: str, quiet: bool = False) -> Score | None:
    if not quiet:
        print(message)
    return None if ok else Score(0.0, message)


def _is_frame(obj: Any) -> bool:
    return isinstance(obj, pd.DataFrame)


def _not_a_table(what: str, quiet: bool = False) -> Score | None:
    return _result(False, f"There is no {what} to check yet.", quiet)


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


# How the checkers' sentences name the synthetic district's columns.
_LABELS = {"iep": "IEP status", "ell": "English-learner status", "frl": "lunch status",
           "zip": "ZIP code", "birth_date": "birth date"}


def _name(column: str) -> str:
    return _LABELS.get(str(column), str(column).replace("_", " "))


def _names(columns: Iterable[str]) -> str:
    return ", ".join(_name(c) for c in columns) or "none"


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


def l_diversity(df: pd.DataFrame, quasi_identifiers: Iterable[str], sensitive: str) -> int:
    """The l of `df` for the `sensitive` column: the fewest different values of it found in any
    group of rows that share the same quasi-identifiers (distinct l-diversity). l = 1 means that
    in at least one group every student has the same value, so knowing that a student belongs
    to the group reveals it.

    Quasi-identifiers that `df` no longer has are skipped, as in `k_anonymity`; missing values
    of the sensitive column count as a value of their own. A file without the sensitive column
    reveals nothing about it and has l = 0 only when it is empty; otherwise its l is reported as
    the number of rows (nothing to reveal)."""
    if len(df) == 0:
        return 0
    if sensitive not in df.columns:
        return len(df)
    present = [c for c in quasi_identifiers if c in df.columns and c != sensitive]
    values = df[sensitive].astype(object).where(df[sensitive].notna(), "<missing>")
    if not present:
        return int(values.nunique())
    groups = values.groupby([df[c] for c in present], dropna=False, observed=True)
    return int(groups.nunique().min())


@_never_raises
def check_direct_identifiers_removed(
    df: pd.DataFrame,
    identifiers: Sequence[str] = DIRECT_IDENTIFIERS,
    required: Sequence[str] = (),
    nothing_else: bool = False,
    quiet: bool = False,
) -> Score | None:
    """Pass when `df` has none of the direct-identifier columns and still has every column in
    `required` (the columns the recipient actually needs). With `nothing_else`, it must also
    have no other column: share only what the study needs. `quiet` skips the printed sentence
    (the returned Score still carries it)."""
    if not _is_frame(df):
        return _not_a_table("file", quiet)
    left = [c for c in identifiers if c in df.columns]
    if left:
        return _result(False, "Direct identifiers are still in the file: " + ", ".join(left)
                       + ". Tick them to leave them out.", quiet)
    lost = [c for c in required if c not in df.columns]
    if lost:
        return _result(False, "The file no longer has columns the study needs: "
                       + ", ".join(lost) + ". Untick them so they stay in.", quiet)
    extra = [c for c in df.columns if c not in required] if nothing_else else []
    if extra:
        return _result(False, "The file still has columns the study does not need: "
                       + ", ".join(extra) + ". Share only what the study needs: drop them.",
                       quiet)
    done = ("Direct identifiers removed, and the file has exactly the columns the study needs."
            if nothing_else else
            "Direct identifiers removed, and the columns the study needs are kept.")
    return _result(True, done, quiet)


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
    names = _names(present)
    if smallest >= k:
        return _result(True, f"k = {smallest}: every combination of {names} is shared by at "
                       f"least {k} students.", quiet)
    groups = df.groupby(present, dropna=False, observed=True).size() if present else None
    rare = int((groups < k).sum()) if groups is not None else 1
    return _result(False, f"k = {smallest}: {rare} combination(s) of {names} are shared by "
                   f"fewer than {k} students. Coarsen or drop more of these facts.", quiet)


@_never_raises
def check_l_diverse(
    df: pd.DataFrame,
    quasi_identifiers: Sequence[str],
    sensitive: str,
    l: int = 2,  # noqa: E741 (the letter is the method's name)
    quiet: bool = False,
) -> Score | None:
    """Pass when every group of rows sharing the same quasi-identifiers holds at least `l`
    different values of the `sensitive` column (see `l_diversity`)."""
    if not _is_frame(df):
        return _not_a_table("file", quiet)
    label = _name(sensitive)
    if sensitive not in df.columns:
        return _result(True, f"The file has no {label} column, so it cannot reveal it.", quiet)
    present = [c for c in quasi_identifiers if c in df.columns and c != sensitive]
    smallest = l_diversity(df, present, sensitive)
    names = _names(present) if present else "nothing (the whole file is one group)"
    if smallest >= l:
        return _result(True, f"Every group of students who share {names} has at least {l} "
                       f"different values of {label}: belonging to a group reveals no one's "
                       f"{label}.", quiet)
    if present:
        counts = df.groupby(present, dropna=False, observed=True)[sensitive].nunique(
            dropna=False)
        uniform = int((counts < l).sum())
    else:
        uniform = 1
    return _result(False, f"{uniform} group(s) of students who share {names} all have the same "
                   f"{label}, so the file reveals it for every student in them. Drop another "
                   "fact the study does not need.", quiet)


# -- published tables: the audit ----------------------------------------------------------------

def _pivot(A: np.ndarray, rhs: np.ndarray, obj: np.ndarray, row: int, col: int) -> None:
    """One simplex pivot on A[row, col], applied to the constraint rows, their right-hand sides
    and the objective row (whose last entry is the objective's value)."""
    scale = A[row, col]
    A[row] /= scale
    rhs[row] /= scale
    for i in range(A.shape[0]):
        if i != row and abs(A[i, col]) > _EPS:
            factor = A[i, col]
            A[i] -= factor * A[row]
            rhs[i] -= factor * rhs[row]
    factor = obj[col]
    if abs(factor) > _EPS:
        obj[:-1] -= factor * A[row]
        obj[-1] -= factor * rhs[row]


def _simplex(A: np.ndarray, rhs: np.ndarray, obj: np.ndarray, basis: list[int],
             allowed: int) -> bool:
    """Maximize from a feasible basis with Bland's rule (no cycling). `obj` holds reduced costs
    (a negative one can still improve the objective); only the first `allowed` columns may
    enter. Returns False if the objective can grow without bound."""
    while True:
        entering = next((j for j in range(allowed) if obj[j] < -_EPS), None)
        if entering is None:
            return True
        best: tuple[float, int, int] | None = None
        for i in range(A.shape[0]):
            if A[i, entering] > _EPS:
                ratio = rhs[i] / A[i, entering]
                key = (ratio, basis[i], i)
                if best is None or key[0] < best[0] - _EPS or (
                        abs(key[0] - best[0]) <= _EPS and key[1] < best[1]):
                    best = key
        if best is None:
            return False
        _pivot(A, rhs, obj, best[2], entering)
        basis[best[2]] = entering


def _maximize(A: np.ndarray, b: np.ndarray, c: np.ndarray) -> tuple[float, np.ndarray | None]:
    """max c.x subject to A x = b, x >= 0, by the two-phase simplex method. Returns the optimum
    and a solution, (inf, None) when unbounded, or (nan, None) when infeasible."""
    m, n = A.shape
    A = A.astype(float).copy()
    b = b.astype(float).copy()
    flip = b < 0
    A[flip] *= -1
    b[flip] *= -1
    # Phase 1: artificial variables n..n+m-1 start in the basis; maximize -(their sum).
    T = np.hstack([A, np.eye(m)])
    rhs = b.copy()
    basis = list(range(n, n + m))
    obj = np.zeros(n + m + 1)
    obj[:n] = -T[:, :n].sum(axis=0)
    obj[-1] = -rhs.sum()
    _simplex(T, rhs, obj, basis, n)
    if obj[-1] < -1e-6:
        return math.nan, None
    # Drive artificial variables out of the basis; drop rows that are redundant.
    keep = []
    for i in range(m):
        if basis[i] >= n:
            col = next((j for j in range(n) if abs(T[i, j]) > _EPS), None)
            if col is None:
                continue
            _pivot(T, rhs, obj, i, col)
            basis[i] = col
        keep.append(i)
    T = T[keep, :n]
    rhs = rhs[keep]
    basis = [basis[i] for i in keep]
    # Phase 2: the real objective, expressed in reduced costs for the current basis.
    obj = np.zeros(n + 1)
    obj[:n] = -c
    for i, var in enumerate(basis):
        obj[:n] += c[var] * T[i]
        obj[-1] += c[var] * rhs[i]
    if not _simplex(T, rhs, obj, basis, n):
        return math.inf, None
    x = np.zeros(n)
    for i, var in enumerate(basis):
        x[var] = rhs[i]
    return float(obj[-1]), x


def _lines(
    table: pd.DataFrame,
    row_columns: Sequence[str],
    category_column: str,
    total_label: str,
    column_totals: pd.DataFrame | None,
    count_column: str,
) -> tuple[list[tuple[list[Hashable], list[Hashable]]], list[tuple[list[Hashable], float]]]:
    """The sums a reader of `table` can rely on.

    - rows: (the row's group cells, [its total cell]): the cells add up to the total;
    - columns: (the cells of one group in every row, known total): from `column_totals`, the
      counts for each group (total column included) summed over all rows and published
      elsewhere; a missing value there is a count that was not published."""
    rows: list[tuple[list[Hashable], list[Hashable]]] = []
    is_total = table[category_column] == total_label
    for index in _rows(table, row_columns):
        totals = [i for i in index if is_total[i]]
        cells = [i for i in index if not is_total[i]]
        if totals:
            rows.append((cells, totals[:1]))
    columns: list[tuple[list[Hashable], float]] = []
    if isinstance(column_totals, pd.DataFrame) and category_column in column_totals \
            and count_column in column_totals:
        known = pd.to_numeric(column_totals[count_column], errors="coerce")
        for label, value in zip(column_totals[category_column], known, strict=True):
            if pd.notna(value):
                members = list(table.index[table[category_column] == label])
                if members:
                    columns.append((members, float(value)))
    return rows, columns


def _fixed_cells(
    counts: pd.Series,
    hidden: set[Hashable],
    rows: list[tuple[list[Hashable], list[Hashable]]],
    columns: list[tuple[list[Hashable], float]],
    only: Hashable | None = None,
) -> list[Hashable]:
    """The hidden cells whose value a reader can work out exactly from the shown counts and the
    sums in `rows` and `columns`: for each hidden cell, its least and greatest possible value
    (every hidden cell a number of zero or more) are equal. With `only`, just that cell is
    tested."""
    order = [i for i in counts.index if i in hidden]
    if not order:
        return []
    where = {cell: j for j, cell in enumerate(order)}
    equations: list[tuple[np.ndarray, float]] = []

    def add(plus: list[Hashable], minus: list[Hashable], constant: float) -> None:
        coef = np.zeros(len(order))
        rhs = constant
        for sign, group in ((1.0, plus), (-1.0, minus)):
            for cell in group:
                if cell in where:
                    coef[where[cell]] += sign
                else:
                    rhs -= sign * float(counts[cell])
        if np.any(coef != 0):
            equations.append((coef, rhs))

    for cells, total in rows:
        add(cells, total, 0.0)
    for cells, value in columns:
        add(cells, [], value)
    involved = np.zeros(len(order), dtype=bool)
    for coef, _ in equations:
        involved |= coef != 0
    if not equations:
        return []
    A = np.array([coef for coef, _ in equations])
    b = np.array([rhs for _, rhs in equations])
    free = ~involved  # in no sum at all: could be anything
    fixed: list[Hashable] = []
    for j, cell in enumerate(order):
        if free[j] or (only is not None and cell != only):
            continue
        c = np.zeros(len(order))
        c[j] = 1.0
        high, x_high = _maximize(A, b, c)
        if math.isnan(high):  # the shown counts contradict each other: nothing to infer
            return []
        low, x_low = _maximize(A, b, -c)
        low = -low
        if math.isinf(high) or high - low > 1e-6:
            if x_high is not None and x_low is not None:
                free |= np.abs(x_high - x_low) > 1e-6  # each varies too: skip its own test
            continue
        fixed.append(cell)
    return fixed


def _rows(table: pd.DataFrame, row_columns: Sequence[str]) -> Iterable[pd.Index]:
    """The index labels of each table row's cells (all of them if there are no row columns)."""
    if not row_columns:
        yield table.index
        return
    for _key, part in table.groupby(list(row_columns), sort=False, dropna=False):
        yield part.index


def _label(table: pd.DataFrame, cell: Hashable, row_columns: Sequence[str],
           category_column: str) -> str:
    parts = [str(table.at[cell, c]) for c in row_columns if c in table]
    if category_column in table:
        parts.append(str(table.at[cell, category_column]))
    return " / ".join(parts) or "the table"


def _pinned(hidden: int, hidden_sum: int, min_cell: int) -> bool:
    """A quick test on one line (a row, or a column with a known total): someone who knows the
    line's total and its shown cells knows the sum of its `hidden` cells. That pins them down
    when only one cell is hidden, and when the sum is the least (all zero) or the most (all
    `min_cell` - 1) that that many small counts can add up to. (The last case matters only to a
    reader who takes every hidden count to be small; hiding one more cell is cheap insurance.)"""
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
    column_totals: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Hide counts below `min_cell` so they cannot be published, then hide more so that no
    hidden count can be worked out from the row totals, from `column_totals` (counts for each
    group over all rows that are already public, such as the state's district-wide figures), or
    from both together.

    `table` is in long format: one line per cell, with `count_column` holding the count. The
    returned copy has the hidden counts as missing values (<NA>) and a column `suppressed`
    saying why: "" (shown), "small" (primary suppression) or "complementary". That column is
    for the district's own review: drop it before publishing, since it tells readers which
    hidden counts are large.

    1. Primary: every count from 0 up to `min_cell` - 1 is hidden, zero included, so that a
       hidden count could be anything in that range. A row total below `min_cell` is hidden
       too.
    2. Complementary, by lines: in each row whose total is shown, and in each group whose
       total over all rows is known, while the hidden cells could be worked out (see
       `_pinned`), the smallest shown cell of that line is hidden as well.
    3. Complementary, by audit: while the exact audit (`recoverable_cells`) still finds a hidden
       count that can be worked out, one more cell in its row or group is hidden, the one that
       protects it at the smallest cost.

    Counts in `column_totals` are already public, so they are never hidden here. A count that
    also appears in another release (last year's report, another office's table) needs the
    same care there. `min_cell` of 0 or 1 hides nothing."""
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
    rows, columns = _lines(out, row_columns, category_column, total_label, column_totals,
                           count_column)
    is_total = (out[category_column] == total_label) if category_column in out else (
        pd.Series(False, index=out.index))

    def hidden_set() -> set[Hashable]:
        return set(out.index[out["suppressed"] != ""])

    def hide(cell: Hashable) -> None:
        out.at[cell, "suppressed"] = "complementary"

    def smallest(cells: Iterable[Hashable]) -> Hashable | None:
        shown = [i for i in cells if not out.at[i, "suppressed"]]
        return min(shown, key=lambda i: (counts[i], str(i))) if shown else None

    # 2. Line by line, until no line changes.
    changed = True
    while changed:
        changed = False
        for cells, total in rows:
            if out.at[total[0], "suppressed"]:
                continue
            hidden = [int(counts[i]) for i in cells if out.at[i, "suppressed"]]
            if _pinned(len(hidden), sum(hidden), min_cell):
                pick = smallest(cells)
                hide(pick if pick is not None else total[0])
                changed = True
        for cells, _value in columns:
            hidden = [int(counts[i]) for i in cells if out.at[i, "suppressed"]]
            if _pinned(len(hidden), sum(hidden), min_cell):
                pick = smallest(cells)
                if pick is not None:
                    hide(pick)
                    changed = True

    # 3. The exact audit, until nothing can be worked out.
    row_of = {cell: line for line in rows for cell in line[0] + line[1]}
    column_of = {cell: line for line in columns for cell in line[0]}
    while True:
        fixed = _fixed_cells(counts, hidden_set(), rows, columns)
        if not fixed:
            break
        target = fixed[0]
        candidates: list[Hashable] = []
        if target in row_of:
            cells, total = row_of[target]
            candidates += [i for i in cells if not out.at[i, "suppressed"]]
            if not is_total[target]:
                candidates += [i for i in total if not out.at[i, "suppressed"]]
        if target in column_of:
            candidates += [i for i in column_of[target][0] if not out.at[i, "suppressed"]]
        candidates = sorted(dict.fromkeys(candidates), key=lambda i: (counts[i], str(i)))
        if not candidates:  # nothing left that could protect it: hide whatever is shown
            candidates = sorted(out.index[out["suppressed"] == ""],
                                key=lambda i: (counts[i], str(i)))
            if not candidates:
                break
        chosen = candidates[0]
        for cell in candidates:  # the cheapest cell that actually protects the target
            trial = hidden_set() | {cell}
            if not _fixed_cells(counts, trial, rows, columns, only=target):
                chosen = cell
                break
        hide(chosen)
    out[count_column] = counts.where(out["suppressed"] == "").astype("Int64")
    return out


def recoverable_cells(
    table: pd.DataFrame,
    count_column: str,
    row_columns: Sequence[str] = ROW_COLUMNS,
    category_column: str = CATEGORY_COLUMN,
    total_label: str = TOTAL_LABEL,
    column_totals: pd.DataFrame | None = None,
) -> list[str]:
    """Hidden counts of a published table that a reader can work out exactly from the shown
    counts, the row totals and `column_totals` (see the module notes on the audit), named
    "row / group". Hidden counts are the missing values of `count_column`."""
    if category_column not in table:
        return []
    counts = pd.to_numeric(table[count_column], errors="coerce")
    hidden = set(table.index[counts.isna()])
    rows, columns = _lines(table, row_columns, category_column, total_label, column_totals,
                           count_column)
    fixed = _fixed_cells(counts, hidden, rows, columns)
    return [_label(table, cell, row_columns, category_column) for cell in fixed]


@_never_raises
def check_min_cell(
    table: pd.DataFrame,
    count_column: str,
    min_cell: int = 10,
    row_columns: Sequence[str] = ROW_COLUMNS,
    category_column: str = CATEGORY_COLUMN,
    total_label: str = TOTAL_LABEL,
    column_totals: pd.DataFrame | None = None,
    quiet: bool = False,
) -> Score | None:
    """Pass when no published count is below `min_cell` and no hidden count can be worked out
    from the row totals, from `column_totals` (counts already published elsewhere), or from both
    together: primary and complementary suppression both done, across the releases."""
    if not _is_frame(table) or count_column not in table:
        return _not_a_table("published table", quiet)
    counts = pd.to_numeric(table[count_column], errors="coerce")
    small = int((counts.notna() & (counts < min_cell)).sum())
    if small:
        return _result(False, f"{small} published count(s) are below {min_cell}. Set "
                       f"the minimum cell size to at least {min_cell}.", quiet)
    open_cells = recoverable_cells(table, count_column, row_columns, category_column,
                                   total_label, column_totals)
    if open_cells:
        return _result(False, "A hidden count can be worked out from the totals: "
                       + "; ".join(open_cells) + ". Hide more counts in those rows or groups.",
                       quiet)
    also = " or from the figures already published" if _is_frame(column_totals) else ""
    return _result(True, f"Every published count is at least {min_cell}, and no hidden count "
                   f"can be worked out from the totals{also}.", quiet)


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
                       "ready to publish yet: fix the minimum cell size first.", quiet)
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
                       "the table still tells readers something about groups.", quiet)
    return _result(False, f"Only {share:.0%} of students are counted in a published group count "
                   f"(at least {min_share:.0%} expected). Is the minimum cell size higher than "
                   "your rules require?", quiet)


# -- percentages -------------------------------------------------------------------------------

def coding_width(group_size: int) -> int | None:
    """The width, in percentage points, of the range to publish at each end of 0-100% for a
    group of `group_size` students: the smallest of `CODING_WIDTHS` that is at least one
    student's share (100 / group_size). None when even 50 points is not enough (a group of one)."""
    if group_size <= 0:
        return None
    share = 100.0 / group_size
    return next((w for w in CODING_WIDTHS if w >= share - 1e-9), None)


def coded_percent(count: int, group_size: int, min_cell: int = 10) -> str:
    """How to publish "`count` of `group_size` students": "*" for a group below `min_cell`;
    otherwise a whole percentage, except near 0% and 100%, which are shown as ranges as wide as
    `coding_width` ("10% or less", "90% or more" for a group of 12), so that "none" cannot be
    told from "one", nor "all" from "all but one". For a group of 20 to 49 that is the familiar
    5/95 rule; for a group of 12, "95% or more" could only mean 12 of 12."""
    if group_size < max(min_cell, 1):
        return "*"
    width = coding_width(group_size)
    if width is None:
        return "*"
    percent = 100.0 * count / group_size
    if percent <= width + 1e-9:
        return f"{width}% or less"
    if percent >= 100 - width - 1e-9:
        return f"{100 - width}% or more"
    return f"{math.floor(percent + 0.5)}%"


def show_table(
    table: pd.DataFrame,
    count_column: str,
    row_columns: Sequence[str] = ROW_COLUMNS,
    category_column: str = CATEGORY_COLUMN,
    mark: str = "*",
) -> pd.DataFrame:
    """A published long table as it would look in a report: one row per table row, one column
    per group (in order of first appearance), hidden counts shown as `mark`."""
    if row_columns:
        wide = table.pivot(index=list(row_columns), columns=category_column, values=count_column)
    else:
        wide = table.set_index(category_column)[[count_column]].T
        wide.index = [""]
    order = list(dict.fromkeys(table[category_column]))
    wide = wide[order].astype(object)
    wide = wide.where(wide.notna(), mark)
    wide.columns.name = None
    return wide
