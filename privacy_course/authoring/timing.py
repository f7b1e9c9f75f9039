"""An honest time estimate for each module, from what a learner actually reads and does.

Why this exists: the modules' stated times were guesses, and learners timed on them took far
longer (issue 16: m05 took 55-65 minutes and m06 about 50, against 45 stated). This measures
instead of guessing: it counts the words a learner reads and the things a learner must do, and
applies the fixed rates below. The rates are stated here, in one place, so that a facilitator can
check them, argue with them, and see exactly how a module's "Time:" line was reached.

What counts as reading (words at `WORDS_PER_MINUTE`):

- the notebook's markdown cells, except the "Sources" section (a reference list, not read through)
  and the YAML front matter; code cells are not read;
- the learner-visible text in the module's YAML: each scenario's title and ONE play of it, the
  path to an ending that has the most words (a learner on one path reads only that path): on
  each step of it the situation and question (the longest variant), every choice's text, and
  the longest feedback among its choices (she reads the feedback of the one she picks: this
  errs towards more time); then the ending's title and summary (the longest variant); each knowledge
  check's question and options; each prompt's label, help, placeholder and items; each exercise's
  label, help, categories and items. A choice's "Source:" line is a citation, like the Sources
  list, and is not counted.

What counts as doing (minutes beyond reading):

- each scenario decision step on that one play: `MINUTES_PER_DECISION`;
- each knowledge check: `MINUTES_PER_CHECK`;
- each typed prompt answer (a prompt of kind "text"): `MINUTES_PER_TYPED_ANSWER`;
- each clicked prompt answer (a checklist or choice about the learner's own district, such as a
  self-assessment): `MINUTES_PER_CLICKED_ANSWER`, the same as a knowledge check;
- each exercise item to sort: `MINUTES_PER_EXERCISE_ITEM`.

Not timed: a code exercise (a solution cell with a `scaffold`, where the learner edits values
and runs code). No fair fixed rate exists for it; the table counts such cells in its "code"
column so that a reader adds the time by hand rather than mistaking the total for the whole.

Every module should come out within `LOW_MINUTES` to `HIGH_MINUTES`. If it does not, cut or split
the module; do not change the rates to make it fit.

Run as ``python -m privacy_course.authoring.timing [module ids...]`` (default: all modules)
inside the course folder. It exits with status 1 if any module is outside the range.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privacy_course.authoring.build import module_ids
from privacy_course.authoring.content import ContentError, ModuleContent, load_module_content
from privacy_course.authoring.scenario_graph import first_step, is_ending, steps_by_id, successors
from privacy_course.config import ConfigError, find_course_root

WORDS_PER_MINUTE = 200
MINUTES_PER_DECISION = 0.5
MINUTES_PER_CHECK = 0.5
MINUTES_PER_TYPED_ANSWER = 3.0
MINUTES_PER_CLICKED_ANSWER = 0.5
MINUTES_PER_EXERCISE_ITEM = 0.75
LOW_MINUTES = 30
HIGH_MINUTES = 45

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")  # [text](url): the url is not read
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_HTML_TAG = re.compile(r"<[^>]+>")
_WORD = re.compile(r"[^\W_]+(?:['\u2019.,\-][^\W_]+)*")


def count_words(text: str) -> int:
    """Words a reader reads: markdown link targets and tags are dropped, a bare URL is one
    word, and numbers such as "99.37" or "2016-17" are one word each."""
    text = _LINK_TARGET.sub("]", text)
    text = _URL.sub(" link ", text)
    text = _HTML_TAG.sub(" ", text)
    return len(_WORD.findall(text))


def markdown_text(cells: Iterable[dict[str, Any]]) -> str:
    """The markdown a learner reads: every markdown cell, without the Sources section (from a
    "Sources" heading to the next heading of the same or a higher level)."""
    kept: list[str] = []
    sources_level: int | None = None
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        for line in str(cell.get("source", "")).splitlines():
            heading = _HEADING.match(line)
            if heading:
                level = len(heading.group(1))
                if sources_level is not None and level <= sources_level:
                    sources_level = None
                if heading.group(2).strip().lower() == "sources":
                    sources_level = level
                    continue
            if sources_level is None:
                kept.append(line)
    return "\n".join(kept)


def _longest(texts: Iterable[str]) -> str:
    return max(texts, key=count_words, default="")


def _step_text(step: dict[str, Any]) -> list[str]:
    """What a learner reads at one step or ending, each text at its longest variant."""
    variants = [*step.get("variants", []), *step.get("ending", {}).get("variants", [])]
    if is_ending(step):
        ending = step["ending"]
        return [_longest([ending[k], *(v[k] for v in variants if k in v)])
                for k in ("title", "summary")]
    parts = [_longest([step[k], *(v[k] for v in variants if k in v)])
             for k in ("situation", "question")]
    parts += [choice["text"] for choice in step["choices"]]
    return [*parts, _longest(choice["feedback"] for choice in step["choices"])]


def one_play(scenario: dict[str, Any]) -> tuple[list[str], int]:
    """The heaviest play of a scenario: (the texts read, the number of decisions) along the
    loop-free path from the first step to an ending with the most words."""
    steps = steps_by_id(scenario)

    def best(step_id: str, seen: frozenset[str]) -> tuple[int, list[str], int]:
        step = steps[step_id]
        here = _step_text(step)
        if is_ending(step):
            return count_words("\n".join(here)), here, 0
        options = [best(n, seen | {n}) for n in successors(step) if n not in seen]
        words, text, decisions = max(options, key=lambda o: o[0], default=(0, [], 0))
        return count_words("\n".join(here)) + words, here + text, decisions + 1

    first = first_step(scenario)
    _, text, decisions = best(first, frozenset({first}))
    return text, decisions


def yaml_text(content: ModuleContent) -> str:
    """The learner-visible text of a module's scenarios (one play each), checks, prompts and
    exercises."""
    parts: list[str] = []
    for scenario in content.scenarios.values():
        parts.append(scenario["title"])
        parts += one_play(scenario)[0]
    for check in content.checks.values():
        parts.append(check["prompt"])
        parts += [option["text"] for option in check["options"]]
    for prompt in content.prompts.values():
        parts += [prompt.get(key, "") for key in ("label", "help", "placeholder")]
        parts += [item["text"] for item in prompt.get("items", [])]
    for exercise in content.exercises.values():
        parts += [exercise["label"], exercise.get("help", "")]
        parts += [option["text"] for option in exercise["categories"]]
        parts += [item["text"] for item in exercise["items"]]
    return "\n".join(parts)


@dataclass(frozen=True)
class ModuleTime:
    """A module's measured time and its parts."""

    module_id: str
    words: int
    decisions: int
    checks: int
    typed_answers: int
    clicked_answers: int
    exercise_items: int
    code_exercises: int = 0

    @property
    def reading_minutes(self) -> float:
        return self.words / WORDS_PER_MINUTE

    @property
    def decision_minutes(self) -> float:
        return self.decisions * MINUTES_PER_DECISION

    @property
    def check_minutes(self) -> float:
        return self.checks * MINUTES_PER_CHECK

    @property
    def typed_minutes(self) -> float:
        return self.typed_answers * MINUTES_PER_TYPED_ANSWER

    @property
    def clicked_minutes(self) -> float:
        return self.clicked_answers * MINUTES_PER_CLICKED_ANSWER

    @property
    def exercise_minutes(self) -> float:
        return self.exercise_items * MINUTES_PER_EXERCISE_ITEM

    @property
    def total_minutes(self) -> float:
        return (self.reading_minutes + self.decision_minutes + self.check_minutes
                + self.typed_minutes + self.clicked_minutes + self.exercise_minutes)

    @property
    def within_range(self) -> bool:
        return LOW_MINUTES <= self.total_minutes <= HIGH_MINUTES


def measure(root: Path, module_id: str) -> ModuleTime:
    """Measure one module of the course at `root` from its notebook text and YAML content."""
    import jupytext

    folder = root / "modules" / module_id
    notebook = jupytext.read(folder / f"{module_id}.md", fmt="md:myst")
    content = load_module_content(folder, module_id)
    prompts = list(content.prompts.values())
    return ModuleTime(
        module_id=module_id,
        words=count_words(markdown_text(notebook.cells)) + count_words(yaml_text(content)),
        decisions=sum(one_play(s)[1] for s in content.scenarios.values()),
        checks=len(content.checks),
        typed_answers=sum(1 for p in prompts if p["kind"] == "text"),
        clicked_answers=sum(1 for p in prompts if p["kind"] != "text"),
        exercise_items=sum(len(e["items"]) for e in content.exercises.values()),
        code_exercises=sum(
            1 for cell in notebook.cells
            if cell.cell_type == "code" and "scaffold" in cell.metadata
            and cell.metadata.get("nbgrader", {}).get("solution")
        ),
    )


def format_table(times: list[ModuleTime]) -> str:
    """One row per module: each part as count and minutes, the total, and a flag if the total
    is outside the range."""
    header = (f"{'module':<26} {'words':>6} {'read':>5} {'decide':>9} {'checks':>9} "
              f"{'typed':>9} {'clicked':>9} {'items':>10} {'total':>6} {'code':>4}  flag")
    rates = (f"{'(rates)':<26} {'':>6} {WORDS_PER_MINUTE:>3}wm {MINUTES_PER_DECISION:>9g} "
             f"{MINUTES_PER_CHECK:>9g} {MINUTES_PER_TYPED_ANSWER:>9g} "
             f"{MINUTES_PER_CLICKED_ANSWER:>9g} {MINUTES_PER_EXERCISE_ITEM:>10g} {'':>6} {'?':>4}")
    lines = [header, rates]
    for t in times:
        flag = ("" if t.within_range
                else ("OVER 45" if t.total_minutes > HIGH_MINUTES else "UNDER 30"))
        lines.append(
            f"{t.module_id:<26} {t.words:>6} {t.reading_minutes:>5.1f} "
            f"{t.decisions:>3}={t.decision_minutes:>4.1f} {t.checks:>3}={t.check_minutes:>4.1f} "
            f"{t.typed_answers:>3}={t.typed_minutes:>4.1f} "
            f"{t.clicked_answers:>3}={t.clicked_minutes:>4.1f} "
            f"{t.exercise_items:>3}={t.exercise_minutes:>5.2f} {t.total_minutes:>6.1f} "
            f"{t.code_exercises:>4}  {flag}"
        )
    lines.append(
        f"Each part is count=minutes. Reading at {WORDS_PER_MINUTE} words a minute; range "
        f"{LOW_MINUTES}-{HIGH_MINUTES} minutes. \"code\": code exercises, not in the total "
        "(add their time by hand). Rates: privacy_course/authoring/timing.py."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m privacy_course.authoring.timing",
        description="Measure each module's learner time from its words and interactions.",
    )
    parser.add_argument("modules", nargs="*", help="module ids (default: all modules)")
    parser.add_argument("--root", type=Path, help="course folder (default: found from here)")
    args = parser.parse_args(argv)
    try:
        root = (args.root or find_course_root()).resolve()
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    known = module_ids(root)
    ids = args.modules or known
    unknown = [m for m in ids if m not in known]
    if unknown:
        print(f"no such module folder(s) in {root / 'modules'}: {unknown}", file=sys.stderr)
        return 2
    try:
        times = [measure(root, m) for m in ids]
    except ContentError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(format_table(times))
    return 0 if all(t.within_range for t in times) else 1


if __name__ == "__main__":
    sys.exit(main())
