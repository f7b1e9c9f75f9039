"""`privacy-course status`: where a cohort stands, for a terminal 80 columns wide.

What a facilitator needs in one screen: the due dates (in the cohort's time zone), work that
waits in the exchange uncollected (with the command that collects it), a learner x module table
with names, late marks and per-module totals, and every flag with what to do about it. The same
facts give `status --needs-action`: who has not submitted, who is below the pass mark, whose file
could not be graded, with e-mail addresses, as a plain list or a CSV for a mail merge.

Everything comes from `completion` (the gradebook and the grading record) and the exchange; this
room only arranges it. Lines are wrapped to the width (`--wide`: never).
"""

from __future__ import annotations

import csv
import io
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from privacy_course.coursedir import Cohort
from privacy_course.facilitator.completion import (
    BELOW_PASS,
    NOT_SUBMITTED,
    PROBLEM,
    SCENARIOS_UNFINISHED,
    SYMBOLS,
    LearnerRow,
    State,
    completion,
)
from privacy_course.facilitator.dates import in_the_past, local, zone_name
from privacy_course.record import BLOCKING, Flag

WIDTH = 80
WAITING = "in"  # handed in, waiting in the exchange: not collected yet
LATE = "*"
CELL = 4  # a table cell: the widest symbol with its late mark ("low*")
# Flags that mean the handed-in file itself is unusable: the learner must hand it in again.
DAMAGED = BLOCKING | {"answers-unusable", "no-answers-file", "bad-format"}


@dataclass
class CohortStatus:
    """What `status` shows, gathered once."""

    name: str
    rows: list[LearnerRow]
    modules: list[str]
    due: dict[str, datetime | None]
    released: list[str]
    waiting: dict[str, list[str]]
    tz: tzinfo
    pass_mark: float
    cohort_option: str = ""  # " --cohort NAME" in the commands it suggests, when needed

    def short(self, module_id: str) -> str:
        return module_id.split("-")[0]


def cohort_status(cohort: Cohort, cohort_option: str = "") -> CohortStatus:
    from privacy_course.facilitator.cohort import due_dates, released, uncollected

    rows = completion(cohort)
    modules = list(rows[0].results) if rows else []
    if not modules:
        from privacy_course.authoring.build import module_ids

        modules = module_ids(cohort.root)
    out = released(cohort)
    return CohortStatus(cohort.name, rows, modules, due_dates(cohort, modules), out,
                        {m: uncollected(cohort, m) for m in out}, cohort.time_zone,
                        cohort.settings.pass_mark, cohort_option)


def label(row: LearnerRow) -> str:
    """A learner as the facilitator knows her: "Alice Adams (alice)"."""
    return _label(row.id, row.name)


def _label(learner: str, name: str) -> str:
    return f"{name} ({learner})" if name and name != learner else learner


def learner_labels(cohort: Cohort) -> dict[str, str]:
    """{learner id: "Alice Adams (alice)"} from the cohort's gradebook."""
    with cohort.gradebook() as gb:
        return {s.id: _label(s.id, f"{s.first_name or ''} {s.last_name or ''}".strip())
                for s in gb.students}


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _wrap(text: str, width: int, indent: str = "", later: str | None = None) -> list[str]:
    if width <= 0:  # --wide
        return [indent + text]
    return textwrap.wrap(text, width, initial_indent=indent,
                         subsequent_indent=indent if later is None else later,
                         break_on_hyphens=False, break_long_words=False) or [indent]


def _items(items: Iterable[str], width: int, indent: str = "  ", sep: str = "; ") -> list[str]:
    """Short items on as few lines as fit, never breaking one."""
    lines: list[str] = []
    line = indent
    for item in items:
        candidate = item if line == indent else sep + item
        if width > 0 and line != indent and len(line + candidate) > width:
            lines.append(line.rstrip())
            line = indent + item
        else:
            line += candidate
    if line.strip():
        lines.append(line)
    return lines


def waiting_lines(waiting: dict[str, list[str]], cohort_option: str = "",
                  width: int = WIDTH) -> list[str]:
    """One sentence per module with submissions that wait uncollected in the exchange, with
    the command that collects them."""
    lines = []
    for module_id, learners in waiting.items():
        if not learners:
            continue
        short = module_id.split("-")[0]
        count = len(learners)
        text = (f"{count} submission{'s' if count != 1 else ''} for {short} "
                f"wait{'s' if count == 1 else ''} in the exchange: run `privacy-course collect "
                f"{short}{cohort_option}` (or `privacy-course grade {short} --collect"
                f"{cohort_option}`).")
        lines += _wrap(text, width)
    return lines


def flag_lines(flagged: Iterable[tuple[str, str, Flag]], width: int = WIDTH) -> list[str]:
    """Flags grouped by module and sentence, each with who and what to do."""
    return grouped_lines(((who, module_id, str(flag), flag.action)
                          for who, module_id, flag in flagged), width)


def grouped_lines(items: Iterable[tuple[str, str, str, str]], width: int = WIDTH) -> list[str]:
    """(who, module, what, what to do) grouped by module and what: each group once, with
    everyone it concerns and, when there is one, what to do."""
    groups: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for who, module_id, text, action in items:
        groups.setdefault((module_id, text), (action, []))[1].append(who)
    lines = []
    for (module_id, text), (action, people) in groups.items():
        lines += _wrap(f"{module_id.split('-')[0]}: {text}", width, "  ", "      ")
        lines += _wrap("who: " + ", ".join(people), width, "    ", "         ")
        if action:
            lines += _wrap("what to do: " + action, width, "    ", "        ")
    return lines


def feedback_lines(cohort: Cohort, missing: list[tuple[str, str, str]],
                   width: int = WIDTH) -> list[str]:
    """Who got no feedback for a module (learner id, module, why), grouped, with names and,
    where grading recorded a problem, what to do about it."""
    from privacy_course.record import load_record

    record = load_record(cohort.folder)
    names = learner_labels(cohort)

    def action(learner: str, module_id: str) -> str:
        entry = record.get(module_id, {}).get(learner)
        return entry.problem.action if entry and entry.problem else ""

    return grouped_lines(((names.get(learner, learner), module_id, why,
                           action(learner, module_id)) for learner, module_id, why in missing),
                         width)


def _cell(status: CohortStatus, row: LearnerRow, module_id: str) -> str:
    result = row.results[module_id]
    if result.state == NOT_SUBMITTED and row.id in status.waiting.get(module_id, []):
        return WAITING
    return SYMBOLS[result.state] + (LATE if result.late else "")


def render(status: CohortStatus, width: int = WIDTH) -> str:
    """The whole status screen; `width` 0 (`--wide`) never wraps or shortens."""
    modules = status.modules
    count = len(status.rows)
    lines = [f"Cohort {status.name}: {count} learner{'s' if count != 1 else ''}, pass mark "
             f"{status.pass_mark:.0%}, dates in {zone_name(status.tz)}.", ""]
    lines.append("Due dates:")
    for module_id in modules:
        due = status.due.get(module_id)
        if module_id not in status.released:
            when = "not released yet"
        elif due is None:
            when = "released, no due date"
        else:
            when = local(due, status.tz) + (" (passed)" if in_the_past(due) else "")
        lines.append(f"  {module_id:<28} {when}")
    if not status.released:
        lines += ["", *_wrap("Nothing is released yet: release a module with `privacy-course "
                             f"release m01{status.cohort_option} --due \"Jan 15 2027 5pm\"`.",
                             width)]
    waiting = waiting_lines(status.waiting, status.cohort_option, width)
    if waiting:
        lines += ["", *waiting]

    short = [status.short(m) for m in modules]
    labels = [label(r) for r in status.rows]
    room = max(12, width - 1 - (CELL + 1) * len(modules) - 6) if width else 10**6
    name_width = min(max([len("learner"), *(len(str(state)) for state in State),
                          *map(len, labels)]), room)
    lines += ["", "learner".ljust(name_width) + "".join(f" {s:>{CELL}}" for s in short)
              + "  done"]
    for row, text in zip(status.rows, labels, strict=True):
        done = sum(1 for m in modules if row.results[m].complete)
        lines.append(_fit(text, name_width).ljust(name_width)
                     + "".join(f" {_cell(status, row, m):>{CELL}}" for m in modules)
                     + f"  {done}/{len(modules)}")
    lines.append("")
    totals: list[tuple[str, list[int]]] = [
        (str(state), [sum(1 for r in status.rows if r.results[m].state == state)
                      for m in modules]) for state in State]
    totals.append(("handed in late", [sum(1 for r in status.rows if r.results[m].late)
                                      for m in modules]))
    totals.append(("waiting in the exchange", [len(status.waiting.get(m, [])) for m in modules]))
    for name, counts in totals:
        if any(counts):
            lines.append(_fit(name, name_width).ljust(name_width)
                         + "".join(f" {c:>{CELL}}" for c in counts))
    lines.append("")
    legend = [f"{symbol} {state}" for state, symbol in SYMBOLS.items()]
    legend += [f"{WAITING} waiting in the exchange (not collected)",
               f"{LATE} handed in after the due date"]
    lines += _items(legend, width, indent="")
    flagged = [(label(row), m, f) for row in status.rows for m in modules
               for f in row.results[m].flags]
    if flagged:
        lines += ["", "Flags, and what to do:", *flag_lines(flagged, width)]
    return "\n".join(lines)


@dataclass
class Reminder:
    """One learner who needs to do something, and what."""

    row: LearnerRow
    not_submitted: list[str] = field(default_factory=list)
    below_pass: list[str] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    problems: list[tuple[str, Flag | None]] = field(default_factory=list)


def needs_action(status: CohortStatus) -> list[Reminder]:
    """Whose file is damaged or could not be graded, who has not handed in a released module
    (nor has one waiting in the exchange), who is below the pass mark or left scenarios
    unfinished: each learner and module once, under the first of these that applies."""
    reminders = []
    for row in status.rows:
        reminder = Reminder(row)
        for module_id in status.modules:
            result = row.results[module_id]
            damaged = [f for f in result.flags if f.code in DAMAGED]
            if result.state == PROBLEM or damaged:
                first = (damaged or result.flags)[0] if damaged or result.flags else None
                reminder.problems.append((module_id, first))
            elif (result.state == NOT_SUBMITTED and module_id in status.released
                    and row.id not in status.waiting.get(module_id, [])):
                reminder.not_submitted.append(module_id)
            elif result.state == BELOW_PASS:
                reminder.below_pass.append(module_id)
            elif result.state == SCENARIOS_UNFINISHED:
                reminder.unfinished.append(module_id)
        if (reminder.not_submitted or reminder.below_pass or reminder.unfinished
                or reminder.problems):
            reminders.append(reminder)
    return reminders


def _due_words(status: CohortStatus, module_id: str) -> str:
    due = status.due.get(module_id)
    if due is None:
        return module_id
    return f"{module_id} (due {local(due, status.tz)}{', passed' if in_the_past(due) else ''})"


def _score(status: CohortStatus, row: LearnerRow, module_id: str) -> str:
    result = row.results[module_id]
    if result.score is None or not result.max_score:
        return module_id
    return f"{module_id} ({result.score:g} of {result.max_score:g} points)"


def _problem(module_id: str, flag: Flag | None) -> str:
    return f"{module_id}: {flag}" if flag else f"{module_id}: could not be graded"


def reminders_text(status: CohortStatus, reminders: list[Reminder], width: int = WIDTH) -> str:
    """The needs-action list in plain words, grouped by what to do, with e-mail addresses."""
    if not reminders:
        return (f"Nobody in cohort {status.name} needs to act: every released module is handed "
                "in, graded and at or above the pass mark.")

    def who(row: LearnerRow) -> str:
        return f"{row.name} <{row.email}>" if row.email else label(row)

    sections = [
        ("Not handed in yet:", lambda r: [_due_words(status, m) for m in r.not_submitted]),
        (f"Below the pass mark of {status.pass_mark:.0%}:",
         lambda r: [_score(status, r.row, m) for m in r.below_pass]),
        ("Scenarios not finished (finish them, then resubmit):", lambda r: r.unfinished),
        ("File damaged or could not be graded:",
         lambda r: [_problem(m, f).rstrip(".") + (f". What to do: {f.action}" if f else "")
                    for m, f in r.problems]),
    ]
    lines = [f"Learners of cohort {status.name} who need to act: {len(reminders)} of "
             f"{len(status.rows)}.", ""]
    for title, items in sections:
        entries = [(who(r.row), items(r)) for r in reminders if items(r)]
        if not entries:
            continue
        lines.append(title)
        for person, things in entries:
            lines += _wrap(f"{person}: {'; '.join(things)}", width, "  ", "      ")
        lines.append("")
    emails = [r.row.email for r in reminders if r.row.email]
    if emails:
        lines.append("Their e-mail addresses, to paste into a message's Bcc field:")
        lines += _items(emails, width, sep="; ")
    return "\n".join(lines).rstrip()


CSV_COLUMNS = ["email", "first_name", "last_name", "id", "not_handed_in", "below_pass_mark",
               "scenarios_unfinished", "could_not_be_graded", "what_to_do"]


def reminders_csv(status: CohortStatus, reminders: list[Reminder]) -> str:
    """One row per learner who needs to act, for a mail merge (columns `CSV_COLUMNS`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in reminders:
        actions = list(dict.fromkeys(f.action for _m, f in r.problems if f))
        writer.writerow([
            r.row.email, r.row.first_name, r.row.last_name, r.row.id,
            "; ".join(_due_words(status, m) for m in r.not_submitted),
            "; ".join(_score(status, r.row, m) for m in r.below_pass),
            "; ".join(r.unfinished),
            "; ".join(_problem(m, f) for m, f in r.problems),
            " ".join(actions),
        ])
    return out.getvalue()


__all__ = ["CohortStatus", "Reminder", "cohort_status", "feedback_lines", "flag_lines",
           "grouped_lines", "label",
           "learner_labels", "needs_action", "reminders_csv", "reminders_text", "render",
           "waiting_lines"]
