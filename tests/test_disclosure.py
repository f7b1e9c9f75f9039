"""The disclosure-avoidance helpers and the synthetic district behind module m06's exercise:
k-anonymity, small-cell suppression (primary and complementary), the checkers that graded cells
call (one sentence on stdout, nothing on stderr, never an exception), and a generator that
writes the same CSV bytes on every run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from privacy_course import disclosure, synthetic
from privacy_course.grading import Score

from .conftest import ROOT

SHIPPED_CSV = ROOT / "modules" / "m06-deidentification" / "data" / "students.csv"


def table(rows: dict[str, list[int]], total: bool = True) -> pd.DataFrame:
    """A long table in the exercise's shape from {row name: [group counts]} (plus a total)."""
    lines = []
    for name, counts in rows.items():
        for i, count in enumerate(counts):
            lines.append({"school": name, "grade_band": "K-2", "group": f"g{i}",
                          "students": count})
        if total:
            lines.append({"school": name, "grade_band": "K-2", "group": "All students",
                          "students": sum(counts)})
    return pd.DataFrame(lines)


def hidden(published: pd.DataFrame, school: str = "A") -> list[str]:
    part = published[(published["school"] == school) & published["students"].isna()]
    return list(part["group"])


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


# -- suppression ----------------------------------------------------------------------------

def test_primary_suppression_hides_small_counts_and_zero():
    out = disclosure.suppress_small_cells(table({"A": [50, 3, 0, 4]}), "students", 10)
    assert hidden(out) == ["g1", "g2", "g3"]
    assert out.loc[out["group"] == "All students", "students"].iloc[0] == 57
    assert set(out["suppressed"]) == {"", "small"}


def test_single_hidden_cell_gets_a_complementary_partner():
    out = disclosure.suppress_small_cells(table({"A": [50, 12, 30, 4]}), "students", 10)
    assert hidden(out) == ["g1", "g3"]  # 12 is the smallest shown count in the row
    assert out.loc[out["group"] == "g1", "suppressed"].iloc[0] == "complementary"
    assert disclosure.recoverable_rows(out, "students", 10) == []


def test_two_hidden_cells_need_no_partner():
    out = disclosure.suppress_small_cells(table({"A": [50, 3, 30, 4]}), "students", 10)
    assert hidden(out) == ["g1", "g3"]
    assert "complementary" not in set(out["suppressed"])


def test_hidden_cells_that_must_all_be_zero_get_a_partner():
    out = disclosure.suppress_small_cells(table({"A": [50, 0, 30, 0]}), "students", 10)
    assert "complementary" in set(out["suppressed"])
    assert disclosure.recoverable_rows(out, "students", 10) == []


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


def test_recoverable_rows_names_the_row_with_one_hidden_cell():
    published = table({"A": [50, 12, 4]})
    published["students"] = published["students"].astype("Int64")
    published.loc[published["group"] == "g2", "students"] = pd.NA
    assert disclosure.recoverable_rows(published, "students", 10) == ["A / K-2"]


def test_show_table_marks_hidden_counts():
    out = disclosure.suppress_small_cells(table({"A": [50, 3, 4]}), "students", 10)
    wide = disclosure.show_table(out, "students")
    assert list(wide.columns) == ["g0", "g1", "g2", "All students"]
    assert wide.loc[("A", "K-2"), "g1"] == "*"
    assert wide.loc[("A", "K-2"), "g0"] == 50


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


def test_k_anonymity_check(capsys: pytest.CaptureFixture[str]):
    df = pd.DataFrame({"sex": ["F"] * 5 + ["M"] * 4})
    assert float(disclosure.check_k_anonymous(df, ["sex"], k=5)) == 0.0
    assert "k = 4" in one_sentence(capsys)
    assert disclosure.check_k_anonymous(df, ["sex"], k=4) is None
    one_sentence(capsys)


def test_min_cell_check_needs_primary_and_complementary(capsys: pytest.CaptureFixture[str]):
    raw = table({"A": [50, 12, 30, 4]})
    assert float(disclosure.check_min_cell(raw, "students", 10)) == 0.0
    assert "below 10" in one_sentence(capsys)
    primary_only = raw.copy()
    primary_only["students"] = primary_only["students"].astype("Int64")
    primary_only.loc[primary_only["students"] < 10, "students"] = pd.NA
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
        "t = pd.DataFrame({'school': ['A'] * 3, 'grade_band': ['K-2'] * 3,"
        " 'group': ['g0', 'g1', 'All students'], 'students': [50, 4, 54]})\n"
        "p = disclosure.suppress_small_cells(t, 'students', 10)\n"
        "disclosure.check_min_cell(p, 'students')\n"
        "disclosure.check_detail_kept(p, 'students', t)\n"
        "disclosure.check_k_anonymous(t, ['school'], k=5)\n"
        "disclosure.check_direct_identifiers_removed(t)\n"
    )
    result = subprocess.run([sys.executable, "-W", "default", "-c", code],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.strip().splitlines()) == 4


# -- the synthetic district ---------------------------------------------------------------------

def test_generator_writes_identical_bytes_and_matches_the_shipped_csv(tmp_path: Path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    for path in (first, second):
        result = subprocess.run([sys.executable, "-m", "privacy_course.synthetic", str(path)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    assert first.read_bytes() == second.read_bytes()
    assert SHIPPED_CSV.read_bytes() == first.read_bytes(), (
        "the shipped CSV is stale: run python -m privacy_course.synthetic " + str(SHIPPED_CSV))


def test_generated_district_is_realistic_enough_for_the_exercise():
    students = synthetic.make_students()
    assert len(students) >= 2000
    assert list(students.columns) == synthetic.COLUMNS
    assert students["student_id"].is_unique
    assert students["zip"].str.startswith("696").all()  # a ZIP prefix the USPS does not assign
    assert students["race_ethnicity"].nunique() == 7
    assert synthetic.make_students(300, seed=1).equals(synthetic.make_students(300, seed=1))
    assert not synthetic.make_students(300, seed=1).equals(synthetic.make_students(300, seed=2))


def exercise_file(students: pd.DataFrame, birth: str, zip_as: str) -> pd.DataFrame:
    out = students.drop(columns=["race_ethnicity", "ell", "frl", *disclosure.DIRECT_IDENTIFIERS])
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
GRADE_BANDS = {"K": "K-2", "1": "K-2", "2": "K-2", "3": "3-5", "4": "3-5", "5": "3-5",
               "6": "6-8", "7": "6-8", "8": "6-8", "9": "9-12", "10": "9-12", "11": "9-12",
               "12": "9-12"}


@pytest.mark.parametrize("birth, zip_as, passes", [
    ("date", "5 digits", False),
    ("year", "3 digits", False),  # students older or younger than classmates stand out
    ("drop", "5 digits", False),  # a rarely used ZIP code stands out
    ("drop", "3 digits", True),
    ("drop", "drop", True),
])
def test_exercise_settings_against_the_shipped_data(birth: str, zip_as: str, passes: bool):
    students = pd.read_csv(SHIPPED_CSV, dtype=str)
    k = disclosure.k_anonymity(exercise_file(students, birth, zip_as), QIS)
    assert (k >= 5) is passes, k


@pytest.mark.parametrize("min_cell, useful", [(10, True), (15, True), (30, True), (50, False)])
def test_exercise_table_against_the_shipped_data(min_cell: int, useful: bool,
                                                 capsys: pytest.CaptureFixture[str]):
    students = pd.read_csv(SHIPPED_CSV, dtype=str)
    students["grade_band"] = students["grade"].map(GRADE_BANDS)
    counts = students.groupby(["school", "grade_band", "race_ethnicity"]).size()
    counts = counts.unstack(fill_value=0)
    counts["All students"] = counts.sum(axis=1)
    raw = counts.reset_index().melt(id_vars=["school", "grade_band"], var_name="group",
                                    value_name="students")
    published = disclosure.suppress_small_cells(raw, "students", min_cell)
    assert disclosure.check_min_cell(published, "students", 10) is None
    assert (disclosure.check_detail_kept(published, "students", raw) is None) is useful
    assert "complementary" in set(disclosure.suppress_small_cells(raw, "students", 10)
                                  ["suppressed"])
    capsys.readouterr()


def test_importing_the_package_does_not_import_pandas():
    code = "import sys, privacy_course; print('pandas' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.strip() == "False", result.stderr
