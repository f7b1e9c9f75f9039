"""Reports for facilitators and for people outside the facilitator team.

- `write_csv`: the long table, one row per learner and module (score, max, complete, submitted
  at, late, flags).
- `write_learner_csv`: one row per learner (name, email, each module's state, the modules
  handed in late, the professional-development hours earned), for a spreadsheet or a mail
  merge.
- `write_html`: a self-contained page to open or email: completion as a learner x module heatmap
  with its legend and as a table, and which checks learners miss (by the check's question,
  hardest first). PNG images embedded, with text alternatives and the same figures in tables.
- `write_share`: the aggregate report for outsiders: no names, ids or emails; it names the
  cohort, the date and the suppression rule, and no count below the minimum cell size
  (`CourseSettings.min_cell_size`, default 10) is shown, including counts that could be worked
  out from a total (complementary suppression). A count that cannot be shown is given as the
  coarser figure that can ("fewer than 10", "all but fewer than 10"), with the reason.

Both CSV files begin with a UTF-8 byte-order mark, so that Excel reads accented names right.
Pages are rendered from the Jinja2 templates in `templates/` (autoescaped).
"""

from __future__ import annotations

import base64
import csv
import io
import string
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from privacy_course.authoring.build import module_ids
from privacy_course.authoring.content import module_content
from privacy_course.coursedir import Cohort
from privacy_course.facilitator.completion import (
    BELOW_PASS,
    COMPLETE,
    NOT_SUBMITTED,
    SCENARIOS_UNFINISHED,
    SYMBOLS,
    LearnerRow,
    completion,
)
from privacy_course.facilitator.templating import render
from privacy_course.learner.home import module_title
from privacy_course.learner.responses import read_responses

CSV_COLUMNS = ["learner", "first_name", "last_name", "module", "state", "score", "max_score",
               "complete", "submitted_at", "late", "scenarios_done", "scenarios_total", "flags"]
# A learner's submission of a module counts towards check difficulty only when it holds a grade
# that stands: not damaged (could not be graded), not waiting for grading, not replaced by a
# resubmission.
GRADED_STATES = {COMPLETE, BELOW_PASS, SCENARIOS_UNFINISHED}
# Colours of the heatmap, by state (ColorBrewer's PuOr and greys; every cell also carries its
# symbol, so colour is never the only cue).
COLOURS = {"complete": "#1b7837", "below pass mark": "#e08214",
           "scenarios unfinished": "#fdb863", "submitted, not graded yet": "#b2abd2",
           "resubmitted, not graded yet": "#8073ac", "could not be graded": "#b2182b",
           "not submitted": "#f0f0f0"}
OTHER_COLOUR = "#cccccc"
CHART_ITEMS = 15  # the difficulty chart shows the hardest checks; the table lists every one
HEATMAP_LABELLED_ROWS = 200


def _iso(value: datetime | None) -> str:
    return value.isoformat(sep=" ", timespec="seconds") if value else ""


def _open_csv(path: Path) -> Any:
    """A CSV file for spreadsheets: UTF-8 with a byte-order mark (Excel reads accents right)."""
    return path.open("w", newline="", encoding="utf-8-sig")


def write_csv(rows: list[LearnerRow], modules: list[str], path: Path) -> Path:
    with _open_csv(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            for module_id in modules:
                r = row.results[module_id]
                writer.writerow([row.id, row.first_name, row.last_name, module_id, r.state,
                                 "" if r.score is None else r.score,
                                 "" if r.max_score is None else r.max_score,
                                 "yes" if r.complete else "no", _iso(r.submitted_at),
                                 "yes" if r.late else "no", r.scenarios_done, r.scenarios_total,
                                 "; ".join(r.flags)])
    return path


def _short(module_id: str) -> str:
    return module_id.split("-")[0]


def write_learner_csv(rows: list[LearnerRow], modules: list[str], hours_per_module: float,
                      path: Path) -> Path:
    """One row per learner: id, names, email, each module's state in words, how many modules
    are complete, which were handed in late, the hours earned (`hours_per_module` per complete
    module) and whether the course is complete."""
    with _open_csv(path) as fh:
        writer = csv.writer(fh)
        writer.writerow(["learner", "first_name", "last_name", "email",
                         *[f"{m} state" for m in modules], "modules complete", "late",
                         "hours", "course complete"])
        for row in rows:
            done = sum(row.results[m].complete for m in modules)
            writer.writerow([row.id, row.first_name, row.last_name, row.email,
                             *[row.results[m].state for m in modules], f"{done}/{len(modules)}",
                             ", ".join(_short(m) for m in modules if row.results[m].late),
                             f"{hours_per_module * done:g}",
                             "yes" if row.course_complete else "no"])
    return path


# -- which checks learners miss --------------------------------------------------------------

@dataclass
class CheckDifficulty:
    """One graded check of a module: of the learners counted (graded submissions that
    answered it), how many did not get full marks; `blank` graded submissions left it
    unanswered and are not counted."""

    module: str
    check: str  # the gradebook's cell name
    label: str  # the check's question (or, for an exercise test, what it tests)
    graded: int = 0
    missed: int = 0
    blank: int = 0

    @property
    def share(self) -> float:
        return self.missed / self.graded if self.graded else 0.0


def check_labels(root: Path, module_id: str) -> dict[str, str]:
    """Each graded cell's label for people: a knowledge check (`check-<id>`) by its question,
    any other graded cell (the hands-on exercise's tests) by what it tests."""
    content = module_content(root / "source" / module_id, module_id)
    labels = {f"check-{cid}": " ".join(str(check["prompt"]).split())
              for cid, check in content.checks.items()}
    return labels


def _label(labels: dict[str, str], cell: str) -> str:
    if cell in labels:
        return labels[cell]
    words = cell.removeprefix("test-").removeprefix("check-").replace("-", " ")
    return f"Hands-on exercise: {words}"


def graded_responses(cohort: Cohort, learner: str, module_id: str) -> dict[str, Any] | None:
    """The responses the grader read for a submission (the autograded copy, else the submitted
    one), or None when there is no usable file."""
    for stage in ("autograded", "submitted"):
        path = cohort.path(stage, learner, module_id) / f"{module_id}.responses.json"
        if path.exists():
            result = read_responses(path, module_id)
            return None if result.problem else result.data
    return None


def _answered(value: Any) -> bool:
    return value not in (None, "", [], {})


def _cell_grades(cohort: Cohort, modules: list[str]
                 ) -> dict[str, dict[str, list[tuple[str, float, float]]]]:
    """{module: {learner: [(cell, score, max_score)]}} for every graded cell with points, in
    one query (walking nbgrader's objects issued one query per grade: minutes for thousands)."""
    from nbgrader.api import Assignment, BaseCell, Grade, SubmittedAssignment, SubmittedNotebook

    out: dict[str, dict[str, list[tuple[str, float, float]]]] = {m: {} for m in modules}
    with cohort.gradebook() as gb:
        query = (gb.db.query(Assignment.name, SubmittedAssignment.student_id, BaseCell.name,
                             Grade.score, Grade.max_score)
                 .select_from(Grade)
                 .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
                 .join(SubmittedAssignment,
                       SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                 .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
                 .join(BaseCell, Grade.cell_id == BaseCell.id)
                 .filter(Assignment.name.in_(modules), Grade.max_score > 0))
        for module_id, learner, cell, score, max_score in query:
            out[module_id].setdefault(learner, []).append(
                (cell, float(score or 0.0), float(max_score)))
    return out


def question_difficulty(cohort: Cohort, rows: list[LearnerRow], modules: list[str]
                        ) -> list[CheckDifficulty]:
    """For every graded check: how many counted learners missed it, hardest first.

    Counted: learners whose submission of the module holds a grade that stands and whose saved
    answers record at least one answer (a blank or damaged submission says nothing about the
    questions). For a knowledge check, a counted learner who left that check unanswered is
    counted as `blank`, not as having missed it."""
    grades = _cell_grades(cohort, modules)
    out: list[CheckDifficulty] = []
    for module_id in modules:
        labels = check_labels(cohort.root, module_id)
        items: dict[str, CheckDifficulty] = {}
        for row in rows:
            result = row.results[module_id]
            cells = grades[module_id].get(row.id)
            if result.state not in GRADED_STATES or not cells:
                continue
            answers = (graded_responses(cohort, row.id, module_id) or {}).get("answers") or {}
            if not any(_answered(v) for v in answers.values()):
                continue  # a blank submission
            for cell, score, max_score in cells:
                item = items.setdefault(cell, CheckDifficulty(module_id, cell,
                                                              _label(labels, cell)))
                if cell.startswith("check-") and not _answered(answers.get(cell[6:])):
                    item.blank += 1
                    continue
                item.graded += 1
                item.missed += score < max_score
        out += sorted(items.values(), key=lambda d: d.check)
    return sorted(out, key=lambda d: (-d.share, -d.missed, modules.index(d.module), d.check))


# -- charts ------------------------------------------------------------------------------------

def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def legend() -> list[dict[str, str]]:
    """The states a cell can be in: symbol, words and colour (shown beside the heatmap)."""
    return [{"symbol": symbol, "state": str(state), "colour": COLOURS.get(state, OTHER_COLOUR)}
            for state, symbol in SYMBOLS.items()]


def _heatmap(rows: list[LearnerRow], modules: list[str]) -> str:
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    plt = _pyplot()
    states = list(SYMBOLS)
    grid = [[states.index(r.results[m].state) for m in modules] for r in rows]
    colours = [COLOURS.get(s, OTHER_COLOUR) for s in states]
    # Beyond HEATMAP_LABELLED_ROWS learners the image keeps that height and drops the per-row
    # labels and symbols (the table below has them): one row per learner at full height would
    # exceed matplotlib's largest image (2**16 pixels) from about 1,900 learners.
    labelled = len(rows) <= HEATMAP_LABELLED_ROWS
    height = 1.4 + 0.32 * (max(len(rows), 1) if labelled else HEATMAP_LABELLED_ROWS)
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * len(modules) + 2.6, height))
    ax.imshow(grid or [[states.index(NOT_SUBMITTED)] * len(modules)],
              cmap=ListedColormap(colours), vmin=0, vmax=len(states) - 1, aspect="auto")
    ax.set_xticks(range(len(modules)), [_short(m) for m in modules])
    if labelled:
        ax.set_yticks(range(len(rows)), [r.id for r in rows])
        for y, r in enumerate(rows):
            for x, m in enumerate(modules):
                ax.text(x, y, SYMBOLS[r.results[m].state], ha="center", va="center",
                        fontsize=7)
    else:
        ax.set_yticks([])
        ax.set_ylabel(f"{len(rows)} learners, one row each, in the order of the table below")
    ax.legend(handles=[Patch(facecolor=item["colour"], edgecolor="#666",
                             label=f"{item['symbol']}  {item['state']}") for item in legend()],
              loc="upper left", bbox_to_anchor=(1.02, 1), fontsize=7, frameon=False,
              title="Legend", title_fontsize=8)
    ax.set_title("Completion by learner and module")
    return _png(fig)


def _difficulty_chart(items: list[CheckDifficulty]) -> str:
    """The hardest CHART_ITEMS checks as bars, labelled by module and question: a bounded
    height whatever the number of checks (the table under it lists them all)."""
    plt = _pyplot()
    shown = items[:CHART_ITEMS]
    names = [textwrap.shorten(f"{_short(d.module)} · {d.label}", 90, placeholder=" ...")
             for d in shown]
    names = ["\n".join(textwrap.wrap(n, 48)) for n in names]
    fig, ax = plt.subplots(figsize=(8.5, 0.8 + 0.42 * max(len(names), 1)))
    ax.barh(range(len(names)), [d.share for d in shown], color="#2166ac")
    for y, d in enumerate(shown):
        ax.text(min(d.share, 0.82) + 0.01, y, f"{d.missed} of {d.graded}", va="center",
                fontsize=7)
    ax.set_yticks(range(len(names)), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.set_xlabel("Share of learners counted who missed the check")
    ax.set_title(f"The {len(shown)} checks learners miss most" if len(items) > len(shown)
                 else "Which checks learners miss")
    return _png(fig)


# -- the facilitator's page ----------------------------------------------------------------------

def _titles(root: Path, modules: list[str]) -> dict[str, str]:
    return {m: module_title(root / "source" / m / f"{m}.ipynb") for m in modules}


def write_html(cohort: Cohort, rows: list[LearnerRow], modules: list[str], path: Path,
               sections: Iterable[str] = ()) -> Path:
    """The facilitator's page. `sections` are further HTML fragments (each rendered from its
    own template) added at the end, such as the item analysis."""
    settings = cohort.settings
    difficulty = question_difficulty(cohort, rows, modules)
    page = render(
        "report.html.j2", settings=settings, cohort=cohort.name, rows=rows, modules=modules,
        titles=_titles(cohort.root, modules), short=_short,
        written=datetime.now().strftime("%Y-%m-%d %H:%M"), legend=legend(),
        complete_all=sum(1 for r in rows if r.course_complete),
        heatmap=_heatmap(rows, modules), difficulty=difficulty,
        chart=_difficulty_chart(difficulty) if difficulty else "", chart_items=CHART_ITEMS,
        sections=[Markup(s) for s in sections])
    path.write_text(page, encoding="utf-8")
    return path


# -- the shared (aggregate) report -------------------------------------------------------------

def suppressed(count: int, total: int, min_cell: int) -> bool:
    """A count may be shown only if it and its complement within the shown total are both at
    least `min_cell`: otherwise the small one could be worked out by subtraction. (So 0 and
    "everyone" are suppressed too: they tell something about every member of the group.)"""
    return count < min_cell or (total - count) < min_cell


# Why a figure is not shown exactly: the footnote of each kind, in the words of the page.
FEW = "few"
FEW_OUTSIDE = "few-outside"
TOO_SMALL = "too-small"
REASONS = {
    FEW: "fewer than {m} learners: a group this small is never counted exactly.",
    FEW_OUTSIDE: "fewer than {m} learners are outside this count: the exact count would give "
                 "away that small number by subtraction from the total, so a range is shown.",
    TOO_SMALL: "the group is smaller than twice {m}: any figure, or the rest of its total, "
               "would be a group of fewer than {m}.",
}


@dataclass(frozen=True)
class Figure:
    """A count as the shared report may show it: `text`, and `reason` (one of REASONS) when it
    is not the exact count."""

    text: str
    reason: str = ""
    exact: int | None = None


def figure(count: int, total: int, min_cell: int, of_total: bool = True) -> Figure:
    """The exact count when the suppression rule allows it, else the coarser figure that can be
    shown: "fewer than 10" when the count is small, "all but fewer than 10" when the rest is."""
    if not suppressed(count, total, min_cell):
        share = f" ({count / total:.0%})" if of_total and total else ""
        return Figure(f"{count}{share}", exact=count)
    if total < 2 * min_cell:
        return Figure("not shown", TOO_SMALL)
    if count < min_cell:
        return Figure(f"fewer than {min_cell}", FEW)
    return Figure(f"all but fewer than {min_cell}" + (f" of {total}" if of_total else ""),
                  FEW_OUTSIDE)


def _pooled(counts: list[int], figures: list[Figure], slots: int, min_cell: int
            ) -> Figure | None:
    """The course-wide total of a column (module submissions of all modules together) when it
    gives nothing away: every module shown exactly, or the modules not shown hiding, together,
    at least `min_cell` counted and `min_cell` not counted (so the total minus the shown
    modules is no small group)."""
    total = sum(counts)
    hidden = [c for c, f in zip(counts, figures, strict=True) if f.exact is None]
    hidden_slots = slots // len(counts) * len(hidden) if counts else 0
    if hidden and (sum(hidden) < min_cell or hidden_slots - sum(hidden) < min_cell):
        return None
    if suppressed(total, slots, min_cell):
        return None
    return Figure(f"{total} of {slots} ({total / slots:.0%})", exact=total)


def share_rows(rows: list[LearnerRow], modules: list[str], min_cell: int,
               titles: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Per module: enrolled, submitted and complete as the shared report may show them."""
    enrolled = len(rows)
    out = []
    for module_id in modules:
        submitted = sum(1 for r in rows if r.results[module_id].state != NOT_SUBMITTED)
        complete = sum(1 for r in rows if r.results[module_id].state == COMPLETE)
        out.append({
            "module": module_id, "title": (titles or {}).get(module_id, module_id),
            "enrolled": Figure(str(enrolled), exact=enrolled) if enrolled >= min_cell
            else Figure(f"fewer than {min_cell}", FEW),
            "submitted": figure(submitted, enrolled, min_cell),
            "complete": figure(complete, enrolled, min_cell),
            "counts": {"submitted": submitted, "complete": complete},
        })
    return out


def _pooled_row(table: list[dict[str, Any]], enrolled: int, min_cell: int
                ) -> dict[str, Any] | None:
    """All modules together, when some module's figures had to be coarsened and the pooled
    figures can be shown."""
    if enrolled < min_cell or all(t["submitted"].exact is not None
                                  and t["complete"].exact is not None for t in table):
        return None
    slots = enrolled * len(table)
    pooled = {column: _pooled([t["counts"][column] for t in table],
                              [t[column] for t in table], slots, min_cell)
              for column in ("submitted", "complete")}
    if not any(pooled.values()):
        return None
    return {column: value or Figure("not shown", TOO_SMALL)
            for column, value in pooled.items()} | {"slots": slots}


def write_share(cohort: Cohort, rows: list[LearnerRow], modules: list[str], path: Path,
                sections: Iterable[str] = ()) -> Path:
    """The aggregate report for outside the facilitator team (HTML and CSV beside it)."""
    settings = cohort.settings
    min_cell = settings.min_cell_size
    titles = _titles(cohort.root, modules)
    table = share_rows(rows, modules, min_cell, titles)
    pooled = _pooled_row(table, len(rows), min_cell)
    checks = [(d, figure(d.missed, d.graded, min_cell, of_total=False))
              for d in question_difficulty(cohort, rows, modules)]
    used = sorted({f.reason for t in table for f in (t["enrolled"], t["submitted"],
                                                     t["complete"]) if f.reason}
                  | {f.reason for _, f in checks if f.reason}
                  | ({f.reason for f in (pooled["submitted"], pooled["complete"]) if f.reason}
                     if pooled else set()))
    with _open_csv(path.with_suffix(".csv")) as fh:
        writer = csv.writer(fh)
        writer.writerow(["module", "title", "enrolled", "submitted", "complete", "note"])
        for t in table:
            notes = sorted({t[c].reason for c in ("enrolled", "submitted", "complete")
                            if t[c].reason})
            writer.writerow([t["module"], t["title"], t["enrolled"].text, t["submitted"].text,
                             t["complete"].text,
                             " ".join(REASONS[n].format(m=min_cell) for n in notes)])
        if pooled:
            writer.writerow(["all modules", "module submissions of all modules together",
                             pooled["slots"], pooled["submitted"].text, pooled["complete"].text,
                             "pooled over modules, so that it can be shown"])
    page = render("shared.html.j2", settings=settings, cohort=cohort.name, table=table,
                  pooled=pooled, checks=checks, min_cell=min_cell, short=_short,
                  written=datetime.now().strftime("%Y-%m-%d"), enrolled=table[0]["enrolled"]
                  if table else Figure("0"),
                  reasons={k: REASONS[k].format(m=min_cell) for k in used},
                  marks={k: string.ascii_lowercase[i] for i, k in enumerate(used)},
                  sections=[Markup(s) for s in sections])
    path.write_text(page, encoding="utf-8")
    return path


def report(cohort: Cohort, out: Path, share: bool = False) -> list[Path]:
    """Write the facilitator's reports (long CSV, per-learner CSV, HTML page) or, with `share`,
    the aggregate one (HTML page and CSV); return the files written."""
    modules = module_ids(cohort.root)
    rows = completion(cohort)
    out.mkdir(parents=True, exist_ok=True)
    # Further sections of the page (HTML fragments, each from its own template) and the files
    # they write beside it, e.g. the item analysis.
    from privacy_course.facilitator.item_report import item_report  # it imports this module

    items_html, items_csv = item_report(cohort, modules, out, share=share)
    sections: list[str] = [items_html]
    written: list[Path] = [items_csv]
    if share:
        page = write_share(cohort, rows, modules, out / f"{cohort.name}-shared.html", sections)
        return [page, page.with_suffix(".csv"), *written]
    return [write_csv(rows, modules, out / f"{cohort.name}-report.csv"),
            write_learner_csv(rows, modules, cohort.settings.hours_per_module,
                              out / f"{cohort.name}-learners.csv"),
            write_html(cohort, rows, modules, out / f"{cohort.name}-report.html", sections),
            *written]

