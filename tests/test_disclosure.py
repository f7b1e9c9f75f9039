"""The disclosure-avoidance helpers and the synthetic district behind module m06's exercise:
k-anonymity, l-diversity, small-cell suppression (primary and complementary, against row totals,
column totals and figures already published elsewhere), top and bottom coding, the checkers that
graded cells call (one sentence on stdout, nothing on stderr, never an exception), and a
generator that writes the same CSV bytes on every run. Every test runs the real functions on
real pandas data."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from privacy_course.authoring import synthetic
from privacy_course.learner import disclosure
from privacy_course.learner.checks import Score

from .conftest import ROOT

SHIPPED_CSV = ROOT / "modules" / "m06-deidentification" / "data" / "students.csv"
TOTAL = "All students"


def table(rows: dict[str, list[int]], total: bool = True) -> pd.DataFrame:
    """A long table in the exercise's shape from {school: [group counts]} (plus a total)."""
    lines = []
    for name, counts in rows.items():
        for i, count in enumerate(counts):
            lines.append({"school": name, "group": f"g{i}", "students": count})
        if total:
            lines.append({"school": name, "group": TOTAL, "students": sum(counts)})
    return pd.DataFrame(lines)


def district(raw: pd.DataFrame) -> pd.DataFrame:
    """The column totals of `raw` (every group summed over the schools), as another office would
    publish them: one line per group, total included."""
    return raw.groupby("group", sort=False)["students"].sum().reset_index()


def hidden(published: pd.DataFrame, school: str = "A") -> list[str]:
    part = published[(published["school"] == school) & published["students"].isna()]
    return list(part["group"])


def blank(raw: pd.DataFrame, cells: list[tuple[str, str]]) -> pd.DataFrame:
    """`raw` with the given (school, group) counts hidden, as a published table would have them."""
    out = raw.copy()
    out["students"] = out["students"].astype("Int64")
    for school, group in cells:
        out.loc[(out["school"] == school) & (out["group"] == group), "students"] = pd.NA
    return out


# -- k-anonymity ----------------------------------------------------------------------------

def test_k_anonymity_is_the_smallest_group():
    df = pd.DataFrame({"sex": ["F", "F", "M", "M", "M"], "grade": ["1", "1", "1", "1", "2"]})
    assert disclosure.k_anonymity(df, ["sex", "grade"]) == 1
    assert disclosure.k_anonymity(df, ["sex"]) == 2


def test_k_anonymity_skips_missing_columns_and_handles_edges():
    df = pd.DataFrame({"sex": ["F", "F", "M"]})
    assert disclosure.k_anonymity(df, ["sex", "zip", "birth_date"]) == 1
    assert disclosure.k_anonymity(df, ["zip"]) == 3  # nothing left to single anyone out
    assert disclosure.k_anonymity(df.iloc[0:0], ["sex"]) == 0


def test_k_anonymity_counts_missing_values_as_a_group():
    df = pd.DataFrame({"zip": ["696xx", None, None, "696xx"]})
    assert disclosure.k_anonymity(df, ["zip"]) == 2


def test_l_diversity_is_the_fewest_sensitive_values_in_a_group():
    df = pd.DataFrame({"school": ["A"] * 4 + ["B"] * 4,
                       "iep": ["Y", "N", "N", "N", "N", "N", "N", "N"]})
    assert disclosure.l_diversity(df, ["school"], "iep") == 1  # every B student: no IEP
    assert disclosure.l_diversity(df, [], "iep") == 2  # no quasi-identifier: one group
    assert disclosure.l_diversity(df, ["zip"], "iep") == 2  # a missing column is skipped
    assert disclosure.l_diversity(df.drop(columns="iep"), ["school"], "iep") == 8
    assert disclosure.l_diversity(df.iloc[0:0], ["school"], "iep") == 0


def test_l_diversity_counts_missing_values_as_a_value():
    df = pd.DataFrame({"school": ["A", "A"], "iep": ["N", None]})
    assert disclosure.l_diversity(df, ["school"], "iep") == 2


# -- suppression: primary, and complementary along rows -------------------------------------

def test_primary_suppression_hides_small_counts_and_zero():
    out = disclosure.suppress_small_cells(table({"A": [50, 3, 0, 4]}), "students", 10)
    assert hidden(out) == ["g1", "g2", "g3"]
    assert out.loc[out["group"] == TOTAL, "students"].iloc[0] == 57
    assert set(out["suppressed"]) == {"", "small"}


def test_single_hidden_cell_gets_a_complementary_partner():
    out = disclosure.suppress_small_cells(table({"A": [50, 12, 30, 4]}), "students", 10)
    assert hidden(out) == ["g1", "g3"]  # 12 is the smallest shown count in the row
    assert out.loc[out["group"] == "g1", "suppressed"].iloc[0] == "complementary"
    assert disclosure.recoverable_cells(out, "students") == []


def test_two_hidden_cells_need_no_partner():
    out = disclosure.suppress_small_cells(table({"A": [50, 3, 30, 4]}), "students", 10)
    assert hidden(out) == ["g1", "g3"]
    assert "complementary" not in set(out["suppressed"])


def test_hidden_cells_that_must_all_be_zero_get_a_partner():
    out = disclosure.suppress_small_cells(table({"A": [50, 0, 30, 0]}), "students", 10)
    assert "complementary" in set(out["suppressed"])
    assert disclosure.recoverable_cells(out, "students") == []


def test_hidden_cells_that_must_all_be_the_largest_small_count_get_a_partner():
    out = disclosure.suppress_small_cells(table({"A": [50, 9, 30, 9]}), "students", 10)
    assert "complementary" in set(out["suppressed"])


def test_small_total_is_hidden_with_its_cells():
    out = disclosure.suppress_small_cells(table({"A": [3, 4]}), "students", 10)
    assert out["students"].isna().all()


def test_rows_are_protected_separately_and_input_is_untouched():
    before = table({"A": [50, 12, 4], "B": [40, 20, 30]})
    snapshot = before.copy()
    out = disclosure.suppress_small_cells(before, "students", 10)
    assert hidden(out, "A") == ["g1", "g2"]
    assert hidden(out, "B") == []
    pd.testing.assert_frame_equal(before, snapshot)


@pytest.mark.parametrize("min_cell", [0, 1])
def test_minimum_of_zero_or_one_hides_nothing(min_cell: int):
    out = disclosure.suppress_small_cells(table({"A": [50, 0, 4]}), "students", min_cell)
    assert out["students"].notna().all()


# -- complementary suppression against columns and other releases ---------------------------

def test_a_column_total_gives_back_what_rows_alone_protect():
    # Rows alone: A hides g1 and g2 (two small counts), so no row gives them back. But with
    # the district totals published elsewhere, g1 = 12 - (the other schools' g1) exactly.
    raw = table({"A": [40, 3, 4], "B": [30, 12, 25], "C": [35, 14, 22]})
    rows_only = disclosure.suppress_small_cells(raw, "students", 10)
    assert hidden(rows_only, "A") == ["g1", "g2"]
    assert disclosure.recoverable_cells(rows_only, "students") == []
    found = disclosure.recoverable_cells(rows_only, "students", column_totals=district(raw))
    assert found == ["A / g1", "A / g2"]
    assert float(disclosure.check_min_cell(rows_only, "students", 10,
                                           column_totals=district(raw), quiet=True)) == 0.0


def test_suppression_with_column_totals_hides_a_cell_in_another_row():
    raw = table({"A": [40, 3, 4], "B": [30, 12, 25], "C": [35, 14, 22]})
    out = disclosure.suppress_small_cells(raw, "students", 10, column_totals=district(raw))
    assert disclosure.recoverable_cells(out, "students", column_totals=district(raw)) == []
    assert hidden(out, "A") == ["g1", "g2"]
    # Another school had to give up counts in those groups (and then in its own row).
    others = hidden(out, "B") + hidden(out, "C")
    assert "g1" in others and "g2" in others
    assert set(out.loc[out["school"] != "A", "suppressed"]) <= {"", "complementary"}
    # Published figures are never hidden by this table's suppression: they are already out.
    assert disclosure.check_min_cell(out, "students", 10, column_totals=district(raw),
                                     quiet=True) is None


def test_a_lone_small_school_total_comes_back_from_the_district_total():
    # The exercise's case: one school's total is small, every other school total is shown, and
    # the state's district total gives it back by subtraction.
    raw = table({"A": [15, 6], "B": [4, 5], "C": [20, 14], "D": [30, 11]})
    rows_only = disclosure.suppress_small_cells(raw, "students", 10)
    found = disclosure.recoverable_cells(rows_only, "students", column_totals=district(raw))
    assert "B / " + TOTAL in found
    out = disclosure.suppress_small_cells(raw, "students", 10, column_totals=district(raw))
    assert disclosure.recoverable_cells(out, "students", column_totals=district(raw)) == []
    totals = out[out["group"] == TOTAL]
    assert int(totals["students"].isna().sum()) >= 2


def test_rows_and_columns_together_give_back_what_neither_does_alone():
    # Only some district totals are known (the state hid its own small g1 total). g2 comes back
    # from its column; then the row total gives g1 back as well.
    raw = table({"A": [40, 3, 4], "B": [30, 12, 25]})
    partial = district(raw)
    partial["students"] = partial["students"].astype("Int64")
    partial.loc[partial["group"] == "g1", "students"] = pd.NA
    published = blank(raw, [("A", "g1"), ("A", "g2")])
    assert disclosure.recoverable_cells(published, "students") == []
    assert disclosure.recoverable_cells(published, "students", column_totals=partial) == [
        "A / g1", "A / g2"]


def test_zero_cells_pinned_through_rows_and_columns_together():
    # No single line shows it, but A/g1 + A/g2 = 5 (row) and A/g1 + B/g1 = 1 with B/g1 >= 0 ...
    raw = table({"A": [0, 5, 30], "B": [1, 3, 40]})
    published = blank(raw, [("A", "g0"), ("A", "g1"), ("B", "g0"), ("B", "g1")])
    assert disclosure.recoverable_cells(published, "students") == []
    found = disclosure.recoverable_cells(published, "students", column_totals=district(raw))
    assert found == []  # a 2 x 2 block of hidden cells can shift by one: nothing is pinned
    # ...but when the column totals say g0 is 0 in all, both g0 cells must be zero.
    zero = table({"A": [0, 5, 30], "B": [0, 3, 40]})
    published = blank(zero, [("A", "g0"), ("A", "g1"), ("B", "g0"), ("B", "g1")])
    found = disclosure.recoverable_cells(published, "students", column_totals=district(zero))
    assert found == ["A / g0", "A / g1", "B / g0", "B / g1"]


def brute_force(raw: pd.DataFrame, hidden_cells: list[tuple[str, str]],
                column_totals: pd.DataFrame | None) -> list[str]:
    """Every assignment of 0..limit to the hidden counts that agrees with the shown counts and
    the totals; a hidden count is recoverable when it takes one value in all of them."""
    published = blank(raw, hidden_cells)
    key = {(r.school, r.group): r.students for r in raw.itertuples()}
    limit = int(raw["students"].max())
    seen: dict[tuple[str, str], set[int]] = {c: set() for c in hidden_cells}
    for values in itertools.product(range(limit + 1), repeat=len(hidden_cells)):
        trial = dict(key)
        trial.update(dict(zip(hidden_cells, values, strict=True)))
        schools = dict.fromkeys(s for s, _ in trial)
        groups = [g for g in dict.fromkeys(g for _, g in trial) if g != TOTAL]
        if any(sum(trial[(s, g)] for g in groups) != trial[(s, TOTAL)] for s in schools):
            continue
        if column_totals is not None and any(
                sum(trial[(s, g)] for s in schools) != v
                for g, v in zip(column_totals["group"], column_totals["students"], strict=True)
                if pd.notna(v)):
            continue
        for cell, value in zip(hidden_cells, values, strict=True):
            seen[cell].add(value)
    assert published is not None
    return [f"{s} / {g}" for (s, g), vals in seen.items() if len(vals) == 1]


@pytest.mark.parametrize("with_totals", [False, True])
@pytest.mark.parametrize("pattern", [
    [("A", "g0")],
    [("A", "g0"), ("A", "g1")],
    [("A", "g0"), ("B", "g0")],
    [("A", "g0"), ("A", "g1"), ("B", "g0"), ("B", "g1")],
    [("A", "g0"), ("A", TOTAL), ("B", "g1")],
    [("A", "g1"), ("B", "g0"), ("B", TOTAL)],
    [("A", TOTAL), ("B", TOTAL)],
])
def test_the_audit_agrees_with_trying_every_value(pattern, with_totals):
    raw = table({"A": [0, 3, 2], "B": [2, 1, 4]})
    totals = district(raw) if with_totals else None
    published = blank(raw, pattern)
    got = disclosure.recoverable_cells(published, "students", column_totals=totals)
    assert sorted(got) == sorted(brute_force(raw, pattern, totals))


def test_recoverable_cells_names_the_cell_with_one_hidden_in_its_row():
    published = blank(table({"A": [50, 12, 4]}), [("A", "g2")])
    assert disclosure.recoverable_cells(published, "students") == ["A / g2"]


def test_show_table_marks_hidden_counts():
    out = disclosure.suppress_small_cells(table({"A": [50, 3, 4]}), "students", 10)
    wide = disclosure.show_table(out, "students")
    assert list(wide.columns) == ["g0", "g1", "g2", TOTAL]
    assert wide.loc["A", "g1"] == "*"
    assert wide.loc["A", "g0"] == 50
    one_row = disclosure.suppress_small_cells(district(table({"A": [50, 3, 4]})), "students",
                                              10, row_columns=[])
    wide = disclosure.show_table(one_row, "students", row_columns=[])
    assert wide.shape == (1, 4)


# -- top and bottom coding ------------------------------------------------------------------

@pytest.mark.parametrize("size, width", [(10, 10), (12, 10), (19, 10), (20, 5), (49, 5),
                                         (50, 2), (99, 2), (100, 1), (400, 1)])
def test_coding_width_is_at_least_one_student(size: int, width: int):
    assert disclosure.coding_width(size) == width
    assert width >= 100 / size  # the range at each end always holds two possible counts


def test_coded_percent_keys_the_ranges_to_the_group():
    assert disclosure.coded_percent(12, 12) == "90% or more"  # not "95% or more": 12 of 12
    assert disclosure.coded_percent(11, 12) == "90% or more"  # all and all-but-one look alike
    assert disclosure.coded_percent(10, 12) == "83%"
    assert disclosure.coded_percent(0, 12) == "10% or less"
    assert disclosure.coded_percent(1, 12) == "10% or less"
    assert disclosure.coded_percent(24, 24) == "95% or more"
    assert disclosure.coded_percent(23, 24) == "95% or more"
    assert disclosure.coded_percent(149, 150) == "99% or more"
    assert disclosure.coded_percent(5, 9) == "*"  # below the minimum
    assert disclosure.coded_percent(5, 5, min_cell=0) == "80% or more"  # one student: 20 points
    assert disclosure.coded_percent(1, 1, min_cell=0) == "*"  # no range can hide one of one
    for size in range(10, 120):  # "all" and "all but one" are never told apart
        assert disclosure.coded_percent(size, size) == disclosure.coded_percent(size - 1, size)
        assert disclosure.coded_percent(0, size) == disclosure.coded_percent(1, size)


# -- checkers: None or Score(0), one sentence on stdout, nothing on stderr, never raise -------

def one_sentence(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.strip().splitlines()
    assert len(lines) == 1, captured.out
    return lines[0]


def test_identifier_check(capsys: pytest.CaptureFixture[str]):
    df = pd.DataFrame(columns=["student_id", "school", "grade"])
    result = disclosure.check_direct_identifiers_removed(df, required=["school"])
    assert isinstance(result, Score) and float(result) == 0.0
    assert "student_id" in one_sentence(capsys)
    clean = df.drop(columns="student_id")
    assert disclosure.check_direct_identifiers_removed(clean, required=["school"]) is None
    one_sentence(capsys)
    result = disclosure.check_direct_identifiers_removed(clean.drop(columns="school"),
                                                         required=["school"])
    assert float(result) == 0.0
    assert "school" in one_sentence(capsys)


def test_identifier_check_can_require_nothing_but_the_needed_columns(
        capsys: pytest.CaptureFixture[str]):
    df = pd.DataFrame(columns=["school", "grade", "sex"])
    result = disclosure.check_direct_identifiers_removed(df, required=["school", "grade"],
                                                         nothing_else=True)
    assert float(result) == 0.0
    assert "does not need: sex" in one_sentence(capsys)
    assert disclosure.check_direct_identifiers_removed(
        df.drop(columns="sex"), required=["school", "grade"], nothing_else=True) is None
    assert "exactly" in one_sentence(capsys)


def test_k_anonymity_check(capsys: pytest.CaptureFixture[str]):
    df = pd.DataFrame({"sex": ["F"] * 5 + ["M"] * 4})
    assert float(disclosure.check_k_anonymous(df, ["sex"], k=5)) == 0.0
    assert "k = 4" in one_sentence(capsys)
    assert disclosure.check_k_anonymous(df, ["sex"], k=4) is None
    one_sentence(capsys)


def test_l_diversity_check(capsys: pytest.CaptureFixture[str]):
    df = pd.DataFrame({"school": ["A"] * 5 + ["B"] * 5, "sex": list("FFMMM") * 2,
                       "iep": ["Y", "N", "Y", "N", "N"] + ["N", "N", "Y", "N", "N"]})
    result = disclosure.check_l_diverse(df, ["school", "sex"], "iep", l=2)
    assert float(result) == 0.0  # the two girls at B both have no IEP
    sentence = one_sentence(capsys)
    assert "1 group(s)" in sentence and "IEP status" in sentence
    assert disclosure.check_l_diverse(df.drop(columns="sex"), ["school", "sex"], "iep") is None
    one_sentence(capsys)
    assert disclosure.check_l_diverse(df.drop(columns="iep"), ["school"], "iep") is None
    one_sentence(capsys)


def test_min_cell_check_needs_primary_and_complementary(capsys: pytest.CaptureFixture[str]):
    raw = table({"A": [50, 12, 30, 4]})
    assert float(disclosure.check_min_cell(raw, "students", 10)) == 0.0
    assert "below 10" in one_sentence(capsys)
    primary_only = blank(raw, [("A", "g3")])
    assert float(disclosure.check_min_cell(primary_only, "students", 10)) == 0.0
    assert "worked out" in one_sentence(capsys)
    done = disclosure.suppress_small_cells(raw, "students", 10)
    assert disclosure.check_min_cell(done, "students", 10) is None
    one_sentence(capsys)


def test_detail_check_wants_a_safe_and_useful_table(capsys: pytest.CaptureFixture[str]):
    raw = table({"A": [50, 12, 30, 4], "B": [60, 25, 3, 3]})
    unsafe = disclosure.suppress_small_cells(raw, "students", 0)
    assert float(disclosure.check_detail_kept(unsafe, "students", raw)) == 0.0
    assert "not ready" in one_sentence(capsys)
    right = disclosure.suppress_small_cells(raw, "students", 10)
    assert disclosure.check_detail_kept(right, "students", raw) is None
    one_sentence(capsys)
    too_much = disclosure.suppress_small_cells(raw, "students", 100)
    assert float(disclosure.check_detail_kept(too_much, "students", raw)) == 0.0
    assert "Only" in one_sentence(capsys)


def test_quiet_checks_print_nothing_but_keep_the_message(capsys: pytest.CaptureFixture[str]):
    df = pd.DataFrame(columns=["student_id"])
    result = disclosure.check_direct_identifiers_removed(df, quiet=True)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert "student_id" in result.message


@pytest.mark.parametrize("check, args", [
    (disclosure.check_direct_identifiers_removed, (None,)),
    (disclosure.check_k_anonymous, ("not a table", ["sex"])),
    (disclosure.check_l_diverse, ("not a table", ["sex"], "iep")),
    (disclosure.check_min_cell, (pd.DataFrame({"x": [1]}), "students")),
    (disclosure.check_detail_kept, (pd.DataFrame({"students": [1]}), "students", None)),
    (disclosure.check_k_anonymous, (pd.DataFrame({"sex": [["unhashable"]]}), ["sex"])),
])
def test_checkers_never_raise(capsys: pytest.CaptureFixture[str], check, args):
    result = check(*args)
    assert isinstance(result, Score) and float(result) == 0.0
    one_sentence(capsys)


def test_checkers_in_a_fresh_interpreter_write_nothing_to_stderr():
    code = (
        "import pandas as pd\n"
        "from privacy_course import disclosure\n"
        "t = pd.DataFrame({'school': ['A'] * 3 + ['B'] * 3,"
        " 'group': ['g0', 'g1', 'All students'] * 2, 'students': [50, 4, 54, 30, 20, 50]})\n"
        "d = t.groupby('group', sort=False)['students'].sum().reset_index()\n"
        "p = disclosure.suppress_small_cells(t, 'students', 10, column_totals=d)\n"
        "disclosure.check_min_cell(p, 'students', column_totals=d)\n"
        "disclosure.check_detail_kept(p, 'students', t)\n"
        "disclosure.check_k_anonymous(t, ['school'], k=5)\n"
        "disclosure.check_l_diverse(t, ['school'], 'group')\n"
        "disclosure.check_direct_identifiers_removed(t)\n"
    )
    result = subprocess.run([sys.executable, "-W", "default", "-c", code],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.strip().splitlines()) == 5


# -- the synthetic district ---------------------------------------------------------------------

def test_generator_writes_identical_bytes_and_matches_the_shipped_csv(tmp_path: Path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (first, second):
        result = subprocess.run(
            [sys.executable, "-m", "privacy_course.authoring.synthetic", str(path)],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    assert SHIPPED_CSV.read_bytes() == first.read_bytes(), (
        "the shipped CSV is stale: run python -m privacy_course.authoring.synthetic "
        + str(SHIPPED_CSV))


def test_generated_district_is_realistic_enough_for_the_exercise():
    students = synthetic.make_students()
    assert len(students) >= 2000
    assert list(students.columns) == synthetic.COLUMNS
    assert students["student_id"].is_unique
    assert students["zip"].str.startswith("696").all()  # a ZIP prefix the USPS does not assign
    assert students["race_ethnicity"].nunique() == 7
    assert synthetic.make_students(300, seed=1).equals(synthetic.make_students(300, seed=1))
    assert not synthetic.make_students(300, seed=1).equals(synthetic.make_students(300, seed=2))


def exercise_file(students: pd.DataFrame, birth: str, zip_as: str,
                  drop_sex: bool = True) -> pd.DataFrame:
    """The research file the exercise builds for these settings (direct identifiers dropped)."""
    out = students.drop(columns=["race_ethnicity", "ell", "frl", "suspended",
                                 *disclosure.DIRECT_IDENTIFIERS])
    if drop_sex:
        out = out.drop(columns="sex")
    if birth == "year":
        out["birth_date"] = out["birth_date"].str[:4]
    elif birth == "drop":
        out = out.drop(columns="birth_date")
    if zip_as == "3 digits":
        out["zip"] = out["zip"].str[:3] + "xx"
    elif zip_as == "drop":
        out = out.drop(columns="zip")
    return out


QIS = ["birth_date", "sex", "zip", "school", "grade"]
STUDY = ["school", "grade", "iep", "math_score", "reading_score", "attendance_rate"]


@pytest.mark.parametrize("birth, zip_as, drop_sex, k_ok, l_ok, minimal", [
    ("date", "5 digits", False, False, False, False),
    ("year", "3 digits", False, False, False, False),  # a year older or younger stands out
    ("drop", "5 digits", False, False, False, False),  # a rarely used ZIP code stands out
    ("drop", "3 digits", False, True, False, False),  # k = 9, but 3 groups share one IEP value
    ("drop", "drop", False, True, False, False),
    ("drop", "3 digits", True, True, True, False),  # safe, but 696xx is a column not needed
    ("drop", "drop", True, True, True, True),  # the model answer: only what the study needs
])
def test_exercise_settings_against_the_shipped_data(birth, zip_as, drop_sex, k_ok, l_ok, minimal,
                                                    capsys: pytest.CaptureFixture[str]):
    students = pd.read_csv(SHIPPED_CSV, dtype=str)
    research = exercise_file(students, birth, zip_as, drop_sex)
    assert (disclosure.k_anonymity(research, QIS) >= 5) is k_ok
    assert (disclosure.l_diversity(research, QIS, "iep") >= 2) is l_ok
    columns = disclosure.check_direct_identifiers_removed(research, required=STUDY,
                                                          nothing_else=True, quiet=True)
    assert (columns is None) is minimal
    # Whatever the settings, exact scores and attendance single students out for staff.
    assert disclosure.k_anonymity(research, QIS + STUDY[3:]) == 1
    capsys.readouterr()


def exercise_table(students: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exercise's table of suspended students by school and group, and the state's
    district totals by group (with the state's own suppression at 10)."""
    suspended = students[students["suspended"] == "Y"]
    counts = pd.crosstab(suspended["school"], suspended["race_ethnicity"])
    counts[TOTAL] = counts.sum(axis=1)
    raw = counts.reset_index().melt(id_vars="school", var_name="group", value_name="students")
    state = disclosure.suppress_small_cells(district(raw), "students", 10, row_columns=[])
    return raw, state


@pytest.mark.parametrize("min_cell, useful", [(10, True), (15, True), (20, True), (30, True),
                                              (37, True), (38, False)])
def test_exercise_table_against_the_shipped_data(min_cell: int, useful: bool,
                                                 capsys: pytest.CaptureFixture[str]):
    students = pd.read_csv(SHIPPED_CSV, dtype=str)
    raw, state = exercise_table(students)
    published = disclosure.suppress_small_cells(raw, "students", min_cell, column_totals=state)
    assert disclosure.check_min_cell(published, "students", 10, column_totals=state) is None
    kept = disclosure.check_detail_kept(published, "students", raw, min_share=0.15)
    assert (kept is None) is useful
    capsys.readouterr()


def test_exercise_table_needs_the_state_report_to_be_safe(capsys: pytest.CaptureFixture[str]):
    # The lesson of the exercise: protecting each row against its own total is not enough once
    # the state has published the district's totals.
    students = pd.read_csv(SHIPPED_CSV, dtype=str)
    raw, state = exercise_table(students)
    rows_only = disclosure.suppress_small_cells(raw, "students", 10)
    assert disclosure.recoverable_cells(rows_only, "students") == []
    assert disclosure.recoverable_cells(rows_only, "students", column_totals=state) == [
        "Delta Elementary / All students"]
    published = disclosure.suppress_small_cells(raw, "students", 10, column_totals=state)
    complementary = published[published["suppressed"] == "complementary"]
    assert list(complementary["school"]) == ["Brook Elementary"]
    assert list(complementary["group"]) == [TOTAL]
    for blank_min in (0, 9):  # the untouched notebook, and a minimum just below 10
        shown = disclosure.suppress_small_cells(raw, "students", blank_min, column_totals=state)
        assert disclosure.check_min_cell(shown, "students", 10, column_totals=state,
                                         quiet=True) is not None
    capsys.readouterr()


def test_generated_district_keeps_the_columns_it_had_before_discipline_was_added():
    students = synthetic.make_students()
    assert synthetic.COLUMNS[-1] == "suspended"
    assert set(students["suspended"]) == {"Y", "N"}
    rates = students.groupby(students["school"].str.split().str[-1])["suspended"].apply(
        lambda s: (s == "Y").mean())
    assert rates["Elementary"] < rates["High"] and rates["Elementary"] < rates["Middle"]


def test_importing_the_package_does_not_import_pandas():
    code = "import sys, privacy_course; print('pandas' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr
