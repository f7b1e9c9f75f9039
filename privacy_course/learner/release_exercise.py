"""Module 6's hands-on, done with controls: prepare a research file and a published table.

The learner's four decisions (the columns to leave out, how to keep birth dates and ZIP codes,
the minimum cell size) are check boxes, two drop-downs and one number, saved in the responses
store under `release-settings` like every other answer. The same functions build the two
releases for the page (live, after every change) and for the graded cells (from the saved
file), so what is graded is exactly what the learner saw. The pandas code stays one click away
("Show me the code"), never required. A wrong entry gets one plain sentence; nothing blanks.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd

from privacy_course.learner import disclosure
from privacy_course.learner.responses import ResponsesStore, read_responses, responses_path

KEY = "release-settings"
QUASI_IDENTIFIERS = ["birth_date", "sex", "zip", "school", "grade"]
STUDY_COLUMNS = ["school", "grade", "iep", "math_score", "reading_score", "attendance_rate"]
STAFF_KNOW = ["math_score", "reading_score", "attendance_rate"]
# Never part of the research file: the study does not use them (they feed the table).
NOT_IN_RESEARCH_FILE = ["race_ethnicity", "ell", "frl", "suspended"]
BIRTH_DATE_CHOICES = [("Keep the full date", "date"), ("Keep the month and year", "month"),
                      ("Keep the year only", "year"), ("Leave it out", "drop")]
ZIP_CHOICES = [("Keep all 5 digits", "5 digits"), ("Keep the first 3 digits", "3 digits"),
               ("Leave it out", "drop")]
MIN_CELL_RANGE = (1, 30)

CODE = '''research_file = students.drop(columns=["race_ethnicity", "ell", "frl", "suspended"])
research_file = research_file.drop(columns=COLUMNS_YOU_TICKED, errors="ignore")
if BIRTH_DATE == "month":
    research_file["birth_date"] = research_file["birth_date"].str[:7]   # 2016-08-03 -> 2016-08
elif BIRTH_DATE == "year":
    research_file["birth_date"] = research_file["birth_date"].str[:4]   # 2016-08-03 -> 2016
elif BIRTH_DATE == "drop":
    research_file = research_file.drop(columns="birth_date")
if ZIP == "3 digits":
    research_file["zip"] = research_file["zip"].str[:3] + "xx"         # 69602 -> 696xx
elif ZIP == "drop":
    research_file = research_file.drop(columns="zip")
k = disclosure.k_anonymity(research_file, QUASI_IDENTIFIERS)

suspended = students[students["suspended"] == "Y"]
counts = pd.crosstab(suspended["school"], suspended["race_ethnicity"])
counts["All students"] = counts.sum(axis=1)
table = counts.reset_index().melt(id_vars="school", var_name="group", value_name="students")
published = disclosure.suppress_small_cells(table, "students", MINIMUM_CELL_SIZE,
                                            column_totals=state_report)'''


@dataclass(frozen=True)
class Settings:
    """The learner's four decisions."""

    drop: tuple[str, ...] = ()
    birth_date: str = "date"
    zip: str = "5 digits"
    min_cell: int = 0


@dataclass(frozen=True)
class Releases:
    """The two releases built from one set of settings, and the figures they are judged by."""

    settings: Settings
    research_file: pd.DataFrame
    table: pd.DataFrame
    state_report: pd.DataFrame
    published: pd.DataFrame


def min_cell_problem(text: Any) -> str | None:
    """One plain sentence when the typed minimum cell size is not usable, else None."""
    low, high = MIN_CELL_RANGE
    value = str(text).strip()
    if not value.isdigit() or not low <= int(value) <= high:
        return (f"The minimum cell size must be a whole number from {low} to {high} "
                f"(you typed \u201c{value}\u201d). The results below are for the last number "
                "that worked.")
    return None


def settings_from(saved: Any) -> Settings:
    """Settings from a saved answer, whatever the file holds (anything unusable reads as the
    starting values, so grading sees no answer rather than an error)."""
    if not isinstance(saved, dict):
        return Settings()
    drop = tuple(c for c in saved.get("drop", []) if isinstance(c, str))
    birth = saved.get("birth_date")
    zip_as = saved.get("zip")
    minimum = saved.get("min_cell")
    return Settings(
        drop=drop,
        birth_date=birth if birth in {v for _, v in BIRTH_DATE_CHOICES} else "date",
        zip=zip_as if zip_as in {v for _, v in ZIP_CHOICES} else "5 digits",
        min_cell=minimum if isinstance(minimum, int) and not isinstance(minimum, bool)
        and MIN_CELL_RANGE[0] <= minimum <= MIN_CELL_RANGE[1] else 0,
    )


def research_file(students: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The row-level file for the researcher, as the settings make it."""
    frame = students.drop(columns=NOT_IN_RESEARCH_FILE, errors="ignore")
    frame = frame.drop(columns=list(settings.drop), errors="ignore")
    if "birth_date" in frame:
        if settings.birth_date == "month":
            frame["birth_date"] = frame["birth_date"].str[:7]
        elif settings.birth_date == "year":
            frame["birth_date"] = frame["birth_date"].str[:4]
        elif settings.birth_date == "drop":
            frame = frame.drop(columns="birth_date")
    if "zip" in frame:
        if settings.zip == "3 digits":
            frame["zip"] = frame["zip"].str[:3] + "xx"
        elif settings.zip == "drop":
            frame = frame.drop(columns="zip")
    return frame


def releases(students: pd.DataFrame, settings: Settings) -> Releases:
    """Both releases: the research file and the published table of suspensions (counts by
    school and group, small counts hidden, the state's report card as known totals)."""
    suspended = students[students["suspended"] == "Y"]
    counts = pd.crosstab(suspended["school"], suspended["race_ethnicity"])
    counts["All students"] = counts.sum(axis=1)
    table = counts.reset_index().melt(id_vars="school", var_name="group",
                                      value_name="students")
    district = table.groupby("group", sort=False)["students"].sum().reset_index()
    state_report = disclosure.suppress_small_cells(district, "students", 10, row_columns=[])
    published = disclosure.suppress_small_cells(table, "students", settings.min_cell,
                                                column_totals=state_report)
    return Releases(settings, research_file(students, settings), table, state_report,
                    published)


def saved_releases(module_id: str, students: pd.DataFrame,
                   folder: Path | str | None = None) -> Releases:
    """The releases from the settings in the responses file on disk (what grading reads)."""
    saved = read_responses(responses_path(module_id, folder), module_id).data["answers"]
    return releases(students, settings_from(saved.get(KEY)))


def check_sentences(result: Releases) -> list[tuple[bool, str]]:
    """The five checks of the exercise, each as (passed, its plain sentence)."""
    frame, published = result.research_file, result.published
    calls = [
        lambda: disclosure.check_direct_identifiers_removed(
            frame, required=STUDY_COLUMNS, nothing_else=True),
        lambda: disclosure.check_k_anonymous(frame, QUASI_IDENTIFIERS, k=5),
        lambda: disclosure.check_l_diverse(frame, QUASI_IDENTIFIERS, "iep", l=2),
        lambda: disclosure.check_min_cell(published, "students", min_cell=10,
                                          column_totals=result.state_report),
        lambda: disclosure.check_detail_kept(published, "students", result.table, min_cell=10,
                                             min_share=0.15),
    ]
    out = []
    for call in calls:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            score = call()
        out.append((score is None, " ".join(printed.getvalue().split())))
    return out


def _frame_html(frame: pd.DataFrame, caption: str) -> str:
    body = frame.to_html(index=False, border=0, escape=True)
    return body.replace("<table", f"<table aria-label='{escape(caption)}'", 1)


class ReleaseExercise(w.VBox):
    """The controls and, under them, the two releases and the five checks, redrawn on every
    change."""

    def __init__(self, students: pd.DataFrame, store: ResponsesStore) -> None:
        from privacy_course.learner.widgets import STYLE, _live, html_text

        super().__init__()
        self.add_class("pc-box")
        self.students = students
        self.store = store
        saved = settings_from(store.answer(KEY))
        self.columns = [w.Checkbox(value=c in saved.drop, description=c, indent=False,
                                   layout=w.Layout(width="auto")) for c in students.columns
                        if c not in NOT_IN_RESEARCH_FILE]
        self.birth_date = w.Dropdown(options=BIRTH_DATE_CHOICES, value=saved.birth_date,
                                     description="Birth date", style={"description_width":
                                                                      "initial"})
        self.zip = w.Dropdown(options=ZIP_CHOICES, value=saved.zip, description="ZIP code",
                              style={"description_width": "initial"})
        self.min_cell = w.Text(value=str(saved.min_cell or ""), placeholder="e.g. 10",
                               description="Minimum cell size for the table",
                               continuous_update=False,
                               style={"description_width": "initial"})
        self.problem = _live()
        self.results = w.HTML()
        code = w.HTML(f"<pre style='white-space:pre-wrap'>{escape(CODE)}</pre>")
        self.code = w.Accordion(children=[code], titles=("Show me the code (pandas)",),
                                selected_index=None)
        self.last_good = saved
        for control in [*self.columns, self.birth_date, self.zip, self.min_cell]:
            control.observe(self._changed, names="value")
        self.children = [
            html_text(STYLE),
            html_text("<h3>Your settings</h3><p><strong>1. Columns to leave out of the research "
                  "file</strong> (tick every one):</p>"),
            w.HBox(self.columns, layout=w.Layout(flex_flow="row wrap")),
            html_text("<p><strong>2. Birth dates and ZIP codes</strong></p>"),
            self.birth_date, self.zip,
            html_text("<p><strong>3. The table's minimum cell size</strong>: at least 10, or your "
                  "state's minimum if higher (up to 30).</p>"),
            self.min_cell, self.problem, self.results, self.code,
        ]
        self._draw(saved)

    def settings(self) -> Settings | None:
        """The settings on screen, or None when the number typed is not usable."""
        if min_cell_problem(self.min_cell.value) and str(self.min_cell.value).strip():
            return None
        text = str(self.min_cell.value).strip()
        return Settings(drop=tuple(b.description for b in self.columns if b.value),
                        birth_date=self.birth_date.value, zip=self.zip.value,
                        min_cell=int(text) if text else 0)

    def _changed(self, _change: dict[str, Any]) -> None:
        settings = self.settings()
        if settings is None:
            self.problem.value = (f"<p class='pc-problem'>"
                                  f"{escape(min_cell_problem(self.min_cell.value) or '')}</p>")
            return
        self.problem.value = ""
        self.store.set_answer(KEY, {"drop": list(settings.drop),
                                    "birth_date": settings.birth_date, "zip": settings.zip,
                                    "min_cell": settings.min_cell or None})
        self._draw(settings)

    def _draw(self, settings: Settings) -> None:
        self.last_good = settings
        result = releases(self.students, settings)
        frame = result.research_file
        k = disclosure.k_anonymity(frame, QUASI_IDENTIFIERS)
        diversity = disclosure.l_diversity(frame, QUASI_IDENTIFIERS, "iep")
        k_staff = disclosure.k_anonymity(frame, QUASI_IDENTIFIERS + STAFF_KNOW)
        checks = "".join(
            f"<li><strong>{'Passed' if ok else 'Not yet'}:</strong> {escape(text)}</li>"
            for ok, text in check_sentences(result))
        hidden = result.published.loc[result.published["suppressed"] != "",
                                      ["school", "group", "suppressed"]]
        minimum = ("not set yet" if not settings.min_cell else str(settings.min_cell))
        self.results.value = (
            "<h3>The research file</h3>"
            f"<p>Columns: {escape(', '.join(frame.columns))}.</p>"
            f"<p>k = {k}; l for IEP status = {diversity}; k for readers who also know scores "
            f"and attendance = {k_staff}.</p>"
            "<h3>The published table</h3>"
            "<p>Already public (the state's report card, district totals by group):</p>"
            + _frame_html(disclosure.show_table(result.state_report, "students",
                                                row_columns=[]).reset_index(drop=True),
                          "The state's report card")
            + f"<p>Your table (minimum cell size: {escape(minimum)}; * = not shown):</p>"
            + _frame_html(disclosure.show_table(result.published, "students").reset_index(),
                          "Your published table")
            + f"<p>{len(hidden)} count(s) hidden (for your review only: never publish this "
              "list).</p>"
            + f"<h3>Checks (graded after you submit)</h3><ul>{checks}</ul>")
