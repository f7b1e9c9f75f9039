"""The item analysis as reports show it: a section of the facilitator's (and the shared)
report page, a CSV for maintainers, and the page across cohorts (`report --all-cohorts`).
What is computed, and how, is in `privacy_course.facilitator.items`.

The shared report (`share=True`)
    Follows the rule of `reports.suppressed`: a count is shown only when it and the rest of its
    total are both at least the minimum cell size, and a group smaller than the minimum is
    shown as "fewer than N". Counts that add up to a total are suppressed as a group: the
    options of a single-choice check (and the categories of each classification item) add up
    to the learners counted; at each scenario step the first choices plus "did not choose here"
    add up to the learners who started; the endings plus "not finished" do too. When one count
    of a group is hidden, the smallest shown one is hidden as well, until the hidden ones
    cannot be worked out by subtraction and add up to at least the minimum, so no learner can
    be singled out. Shares are of the group's whole total (a share of a hidden subtotal would
    give it away). Left out: the upper and lower groups, "taken at all" counts, and the flags
    that rest on small counts (an option nobody chose, one that draws stronger learners).
    Facility and discrimination are shown only where the number right can be shown (for a
    single-choice check, the key's own cell, so the two cannot undo each other's suppression).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from privacy_course.coursedir import Cohort
from privacy_course.facilitator.items import (
    EASY,
    GROUP_SHARE,
    CheckAnalysis,
    ChoiceCount,
    EndingCount,
    ItemAnalysis,
    ItemFlag,
    OptionCount,
    Part,
    ScenarioAnalysis,
    StepAnalysis,
    item_analysis,
)
from privacy_course.facilitator.reports import suppressed
from privacy_course.facilitator.templating import render

SUPPRESSED = "suppressed"

CSV_COLUMNS = ["scope", "module", "kind", "item", "part", "option", "text", "role", "learners",
               "count", "share", "upper", "lower", "facility", "discrimination", "flags"]


# -- suppression for the shared report ---------------------------------------------------------

def suppress_group(counts: list[int], total: int, min_cell: int) -> list[bool]:
    """Which counts of a group that adds up to `total` to hide: each that `suppressed` hides
    (below the minimum, or leaving less than it), then, while the hidden ones could be worked
    out (only one hidden) or add up to less than the minimum, the smallest shown one as well.
    Everything is hidden when the total itself is below the minimum."""
    if total < min_cell:
        return [True] * len(counts)
    hidden = [suppressed(c, total, min_cell) for c in counts]
    while any(hidden) and not all(hidden) and (
            sum(hidden) == 1 or sum(c for c, h in zip(counts, hidden, strict=True) if h)
            < min_cell):
        shown = [i for i, h in enumerate(hidden) if not h]
        hidden[min(shown, key=lambda i: counts[i])] = True
    return hidden


# -- what each report shows --------------------------------------------------------------------

@dataclass
class Cell:
    """A count as a report shows it: the figure and its share of `total`, or "suppressed"."""

    count: int | None
    total: int

    @property
    def shown(self) -> bool:
        return self.count is not None

    @property
    def share(self) -> float | None:
        return self.count / self.total if self.count is not None and self.total else None

    def __str__(self) -> str:
        if self.count is None:
            return SUPPRESSED
        share = self.share
        return f"{self.count} ({share:.0%})" if share is not None else str(self.count)


def _group(counts: list[int], total: int, share: bool, min_cell: int) -> list[Cell]:
    """Cells of counts that add up to `total` (suppressed as a group in the shared report)."""
    if not share:
        return [Cell(c, total) for c in counts]
    hidden = suppress_group(counts, total, min_cell)
    return [Cell(None if h else c, total) for c, h in zip(counts, hidden, strict=True)]


def _alone(count: int, total: int, share: bool, min_cell: int) -> Cell:
    """The cell of a count judged against its total alone (a ticked box of a multiple-choice
    check: the ticks do not add up to anything)."""
    hide = share and (total < min_cell or suppressed(count, total, min_cell))
    return Cell(None if hide else count, total)


def _part_of(subtotal: int, counts: list[int], total: int, share: bool, min_cell: int
             ) -> tuple[Cell, list[Cell]]:
    """Counts that add up to `subtotal`, part of `total` (the first choices at a step, of the
    learners who started). In the shared report they are suppressed as a group together with
    the rest of the total, and every share is of the total; the facilitator's are of the
    subtotal."""
    cells = _group([*counts, total - subtotal], total, share, min_cell)
    if share:
        return Cell(None if cells[-1].count is None else subtotal, total), cells[:-1]
    return Cell(subtotal, total), [Cell(c, subtotal) for c in counts]


def base(count: int, share: bool, min_cell: int) -> str:
    """A group's size as a report shows it: in the shared report, "fewer than N" below N."""
    return f"fewer than {min_cell}" if share and count < min_cell else str(count)


@dataclass
class CheckView:
    check: CheckAnalysis
    learners: str
    right: Cell
    facility: float | None
    discrimination: float | None
    options: list[tuple[OptionCount, Cell]]
    parts: list[tuple[Part, list[tuple[OptionCount, Cell]]]]
    flags: list[ItemFlag]


@dataclass
class StepView:
    step: StepAnalysis
    reached: Cell
    choices: list[tuple[ChoiceCount, Cell, Cell | None]]  # (choice, first, took)


@dataclass
class ScenarioView:
    scenario: ScenarioAnalysis
    started: str
    finished: Cell
    steps: list[StepView]
    endings: list[tuple[EndingCount, Cell]]
    risky: tuple[StepAnalysis, ChoiceCount, Cell] | None


def check_view(check: CheckAnalysis, share: bool, min_cell: int) -> CheckView:
    """A check as a report shows it. In the shared report a single-choice check's options and
    a classification item's categories are suppressed as a group (they add up to the learners
    counted), and "right" is the key's own cell, so it cannot undo that suppression."""
    n = check.learners
    if check.kind == "multiple":
        options = [(o, _alone(o.count, n, share, min_cell)) for o in check.options]
        right = _group([check.right, n - check.right], n, share, min_cell)[0]
    else:
        options = list(zip(check.options, _group([o.count for o in check.options], n, share,
                                                  min_cell), strict=True))
        keyed = [cell for o, cell in options if o.role == "key"]
        right = (keyed[0] if keyed and check.kind == "single"
                 else _group([check.right, n - check.right], n, share, min_cell)[0])
    parts = [(p, list(zip(p.options, _group([o.count for o in p.options], n, share, min_cell),
                          strict=True))) for p in check.parts]
    figures = right.shown
    flags = [f for f in check.flags if not share or (figures and f.code in ("easy", "key"))]
    return CheckView(check, base(n, share, min_cell), right,
                     check.facility if figures else None,
                     check.discrimination if figures else None, options, parts, flags)


def scenario_view(scenario: ScenarioAnalysis, share: bool, min_cell: int) -> ScenarioView:
    """A scenario as a report shows it. At each step the first choices and "did not choose
    here" add up to the learners who started; the endings and "not finished" do too: in the
    shared report each is suppressed as a group, and shares are of the learners who started
    (a share of a hidden total would give the total away). The facilitator's shares are of
    the learners who reached the step, and of those who finished."""
    started = scenario.started
    steps = []
    for step in scenario.steps:
        reached, cells = _part_of(step.learners, [c.first for c in step.choices], started,
                                  share, min_cell)
        took = [None if share else Cell(c.took, step.learners) for c in step.choices]
        steps.append(StepView(step, reached, list(zip(step.choices, cells, took, strict=True))))
    finished, cells = _part_of(scenario.finished, [e.count for e in scenario.endings], started,
                               share, min_cell)
    risky = None
    if share:  # the most common risky first choice that can be shown
        shown = [(v.step, c, first) for v in steps for c, first, _ in v.choices
                 if c.verdict == "risky" and first.count]
        risky = max(shown, key=lambda row: row[2].count or 0) if shown else None
    elif scenario.risky is not None:
        step, choice = scenario.risky
        risky = (step, choice, Cell(choice.took, step.learners))
    return ScenarioView(scenario, base(started, share, min_cell), finished, steps,
                        list(zip(scenario.endings, cells, strict=True)), risky)


# -- writing -----------------------------------------------------------------------------------

def _context(analysis: ItemAnalysis, share: bool, min_cell: int) -> dict[str, Any]:
    return {
        "analysis": analysis, "share": share, "min_cell": min_cell, "easy": EASY,
        "group_share": GROUP_SHARE,
        "modules": [(m, [check_view(c, share, min_cell) for c in m.checks],
                     [scenario_view(s, share, min_cell) for s in m.scenarios])
                    for m in analysis.modules],
    }


def render_section(analysis: ItemAnalysis, share: bool = False, min_cell: int = 10) -> str:
    """The item-analysis section of a report page: HTML (escaped by the template), to be placed
    in the page as it is."""
    from markupsafe import Markup

    return Markup(render("items_section.html.j2", **_context(analysis, share, min_cell)))


def write_items_html(analysis: ItemAnalysis, path: Path, title: str, share: bool = False,
                     min_cell: int = 10) -> Path:
    """A page of its own (the report across cohorts)."""
    path.write_text(render(
        "items_page.html.j2", title=title, share=share, min_cell=min_cell,
        written=datetime.now().strftime("%Y-%m-%d %H:%M"),
        sections=[render_section(analysis, share, min_cell)]), encoding="utf-8")
    return path


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _share_of(cell: Cell) -> str:
    share = cell.share
    return "" if share is None else f"{share:.3f}"


def _count(cell: Cell) -> str:
    return SUPPRESSED if cell.count is None else str(cell.count)


def _csv_rows(analysis: ItemAnalysis, share: bool, min_cell: int) -> Iterable[list[str]]:
    scope = " ".join(analysis.scope)
    for module in analysis.modules:
        m = module.id
        for check in module.checks:
            view = check_view(check, share, min_cell)
            yield [scope, m, "check", check.id, "", "", check.prompt, check.kind, view.learners,
                   _count(view.right), _share_of(view.right), "", "", _fmt(view.facility),
                   _fmt(view.discrimination), "; ".join(f.text for f in view.flags
                                                        if not f.option)]
            rows = [("", view.options)] + [(p.id, opts) for p, opts in view.parts]
            for part, options in rows:
                for option, cell in options:
                    flags = [f.text for f in view.flags if f.option == option.id and not part]
                    yield [scope, m, "option", check.id, part, option.id, option.text,
                           option.role, view.learners, _count(cell), _share_of(cell),
                           "" if share else str(option.upper),
                           "" if share else str(option.lower), "", "", "; ".join(flags)]
        for scenario in module.scenarios:
            seen = scenario_view(scenario, share, min_cell)
            risky = (f"most common risky choice: {seen.risky[0].id}/{seen.risky[1].id}"
                     if seen.risky else "")
            yield [scope, m, "scenario", scenario.id, "", "", scenario.title, "", seen.started,
                   _count(seen.finished), _share_of(seen.finished), "", "", "", "", risky]
            for step in seen.steps:
                for choice, first, took in step.choices:
                    yield [scope, m, "choice", scenario.id, step.step.id, choice.id,
                           choice.text, choice.verdict, base(first.total, share, min_cell),
                           _count(first),
                           _share_of(first), "", "", "", "",
                           "" if took is None else f"taken at all by {took.count}"]
            for ending, cell in seen.endings:
                yield [scope, m, "ending", scenario.id, "", ending.id, ending.title,
                       ending.outcome, base(cell.total, share, min_cell), _count(cell),
                       _share_of(cell), "", "", "", "", ""]


def write_items_csv(analysis: ItemAnalysis, path: Path, share: bool = False,
                    min_cell: int = 10) -> Path:
    """The item analysis for maintainers, one row per check, option, scenario choice and
    ending (columns in README)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(_csv_rows(analysis, share, min_cell))
    return path


def item_report(cohort: Cohort, modules: list[str], out: Path, share: bool = False
                ) -> tuple[str, Path]:
    """What the cohort report needs, in one call: the analysis, computed once, as the HTML
    section of the report page and as a CSV written to `out` (its path is returned)."""
    min_cell = cohort.settings.min_cell_size
    analysis = item_analysis([cohort], modules)
    suffix = "shared-items" if share else "items"
    csv_path = write_items_csv(analysis, out / f"{cohort.name}-{suffix}.csv", share, min_cell)
    return render_section(analysis, share, min_cell), csv_path


def all_cohorts_report(cohorts: list[Cohort], out: Path, share: bool = False) -> list[Path]:
    """`privacy-course report --all-cohorts`: the item analysis of every cohort pooled, as a
    page and a CSV, so content can be improved from more than one group."""
    from privacy_course.coursedir import CohortError

    if not cohorts:
        raise CohortError("there are no cohorts yet to analyse; create one with "
                          "`privacy-course cohort create NAME --roster FILE`")
    out.mkdir(parents=True, exist_ok=True)
    settings = cohorts[0].settings
    analysis = item_analysis(cohorts)
    stem = "all-cohorts-shared-items" if share else "all-cohorts-items"
    title = f"{settings.title}: item analysis, {len(cohorts)} cohort" + \
        ("s" if len(cohorts) != 1 else "")
    return [write_items_html(analysis, out / f"{stem}.html", title, share,
                             settings.min_cell_size),
            write_items_csv(analysis, out / f"{stem}.csv", share, settings.min_cell_size)]
