"""Item analysis: which knowledge checks work, which wrong answers draw learners, and which
paths learners take through the scenarios.

Read from the gradebook (every graded cell's score: one query per cohort) and each graded
submission's responses file (the options chosen and the scenario trails, read once), for one
cohort or for several pooled together (`privacy-course report --all-cohorts`). No learner is
named in any of it.

Who is counted
    For the knowledge checks of a module: every learner whose submission of it was graded and
    whose responses file records an answer to at least one of its checks. Blank and damaged
    submissions are left out: they say nothing about the questions. An unanswered check in a
    counted submission is scored as nbgrader scored it (0) and shown as "no answer".
    For the scenarios: every graded submission whose responses file records the scenario.

Facility (Moodle's "facility index")
    p = (1/n) * sum(x_i), where x_i = score_i / max_score is the share of the check's points
    learner i got (0 or 1 for a single- or multiple-choice check, a fraction for a
    classification exercise). "Right" is full marks.

Discrimination: the corrected item-total correlation (point-biserial for a right-or-wrong check)
    r = sum((x_i - mean x) * (R_i - mean R)) / sqrt(sum((x_i - mean x)^2) * sum((R_i - mean R)^2))
    where R_i is learner i's score on the REST of the module (module total minus this check, so
    the check is not correlated with itself). For a right-or-wrong check this equals
    (M_right - M_wrong) / s_R * sqrt(p * (1 - p)), with M the mean rest score of those who got it
    right and wrong, and s_R the standard deviation of R over all n. It runs from -1 to 1:
    positive when learners who did well elsewhere in the module get the check right more often;
    negative when they miss it more often than weaker learners, which usually means a wrong key or
    a misleading question. It cannot be worked out when everyone scored the same on the check,
    or on the rest of the module (shown as a dash).

Stronger and weaker learners (for the distractors)
    The upper and lower 27% of counted learners by rest score R (Kelley's groups, as in the
    upper-lower discrimination index), round(0.27 * n) learners each, ties broken by position in
    a fixed order. For every option: how many chose it overall, in the upper group and in the
    lower group. "Stronger learners avoid it" when its share in the upper group is smaller than
    its share in the lower group.

Flags (plain words, for a maintainer's look)
    - almost everyone got the check right (facility of 90% or more);
    - learners stronger on the rest of the module missed it more than weaker ones (discrimination
      below 0): re-check the key;
    - a wrong option nobody chose;
    - a wrong option that stronger learners chose more often than weaker ones.

Scenarios
    Per decision step, how many learners made each choice: "took" counts every learner whose
    recorded trail has the choice (a learner who tried again counts for each choice tried), and
    "first" counts the choice each learner made first at that step (so the "first" counts add up
    to the learners who reached the step). A replay replaces the trail, so these are the latest
    play's choices. Endings: the ending each learner's latest finished play reached (the
    `ending` recorded; for responses saved before endings were recorded, the one the trail's
    last choice leads to). The most common risky choice is the choice marked `risky` that the
    most learners took.

The reports (HTML sections, CSV, the shared report's suppression) are in
`privacy_course.facilitator.item_report`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from privacy_course.authoring.build import module_ids
from privacy_course.authoring.content import ModuleContent, module_content
from privacy_course.authoring.scenario_graph import END, ending_reached, is_ending, steps_by_id
from privacy_course.coursedir import Cohort
from privacy_course.facilitator.reports import graded_responses
from privacy_course.grading.trusted import _calls as grader_calls
from privacy_course.learner.home import module_title
from privacy_course.record import load_record

EASY = 0.90
GROUP_SHARE = 0.27
NO_ANSWER = "(no answer)"
NOT_RECORDED = "(not recorded)"
GENERAL_ENDING = "Finished (the scenario's general ending)"


# -- the answer keys ---------------------------------------------------------------------------

@dataclass(frozen=True)
class KeyedCheck:
    """One auto-graded cell whose hidden test compares a recorded answer with a key."""

    grade_id: str
    check: str
    kind: str  # "single", "multiple" or "classification"
    key: Any


def answer_keys(source_notebook: Path) -> list[KeyedCheck]:
    """The keyed checks of a module, read from its instructor notebook's hidden tests with the
    same reading the grader uses (`grading.trusted`), so the key analysed is the key graded."""
    nb = json.loads(source_notebook.read_text(encoding="utf-8"))
    keyed = []
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade"):
            continue
        source = cell.get("source", "")
        calls = grader_calls("".join(source) if isinstance(source, list) else source) or []
        for name, args, kwargs in calls:
            key = args[1] if len(args) > 1 else kwargs.get("expected")
            if not args or key is None:
                continue
            if name == "expect":
                kind = "single" if isinstance(key, str) else "multiple"
            elif name == "expect_classification":
                kind = "classification"
            else:
                continue
            keyed.append(KeyedCheck(str(meta.get("grade_id", "")), str(args[0]), kind, key))
            break
    return keyed


# -- what the analysis holds -------------------------------------------------------------------

@dataclass
class ItemFlag:
    code: str  # "easy", "key", "unpicked", "draws-stronger"
    text: str
    option: str = ""  # the option it is about, if any


@dataclass
class OptionCount:
    id: str
    text: str
    role: str  # "key", "distractor" or "no answer"
    count: int = 0
    upper: int = 0
    lower: int = 0


@dataclass
class Part:
    """One item of a classification exercise and where learners put it."""

    id: str
    text: str
    options: list[OptionCount]


@dataclass
class CheckAnalysis:
    module: str
    id: str
    grade_id: str
    kind: str
    prompt: str
    learners: int = 0
    right: int = 0
    facility: float | None = None
    discrimination: float | None = None
    upper_size: int = 0
    lower_size: int = 0
    options: list[OptionCount] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    flags: list[ItemFlag] = field(default_factory=list)


@dataclass
class ChoiceCount:
    id: str
    text: str
    verdict: str
    took: int = 0
    first: int = 0


@dataclass
class StepAnalysis:
    id: str
    question: str
    learners: int = 0
    choices: list[ChoiceCount] = field(default_factory=list)


@dataclass
class EndingCount:
    id: str
    title: str
    outcome: str
    count: int = 0


@dataclass
class ScenarioAnalysis:
    module: str
    id: str
    title: str
    started: int = 0
    finished: int = 0
    steps: list[StepAnalysis] = field(default_factory=list)
    endings: list[EndingCount] = field(default_factory=list)
    risky: tuple[StepAnalysis, ChoiceCount] | None = None


@dataclass
class ModuleAnalysis:
    id: str
    title: str
    learners: int = 0
    checks: list[CheckAnalysis] = field(default_factory=list)
    scenarios: list[ScenarioAnalysis] = field(default_factory=list)


@dataclass
class ItemAnalysis:
    scope: list[str]  # the cohorts pooled
    modules: list[ModuleAnalysis]


# -- reading -----------------------------------------------------------------------------------

@dataclass
class _Submission:
    total: float
    scores: dict[str, float]
    answers: dict[str, Any]
    scenarios: dict[str, Any]


def _cell_scores(gb: Any, modules: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """{module: {learner: {cell name: score}}} for every graded cell, in one query (nbgrader's
    own `Grade.score` expression: manual over automatic, plus extra credit)."""
    from nbgrader.api import Assignment, BaseCell, Grade, SubmittedAssignment, SubmittedNotebook

    out: dict[str, dict[str, dict[str, float]]] = {m: {} for m in modules}
    query = (gb.db.query(Assignment.name, SubmittedAssignment.student_id, BaseCell.name,
                         Grade.score)
             .select_from(Grade)
             .join(SubmittedNotebook, Grade.notebook_id == SubmittedNotebook.id)
             .join(SubmittedAssignment, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
             .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
             .join(BaseCell, Grade.cell_id == BaseCell.id)
             .filter(Assignment.name.in_(modules)))
    for module_id, learner, cell, score in query:
        out[module_id].setdefault(learner, {})[cell] = float(score or 0.0)
    return out


def _cell_max(gb: Any, modules: list[str]) -> dict[str, dict[str, float]]:
    """{module: {grade cell name: points}} as the gradebook holds them."""
    from nbgrader.api import Assignment, GradeCell, Notebook

    out: dict[str, dict[str, float]] = {m: {} for m in modules}
    query = (gb.db.query(Assignment.name, GradeCell.name, GradeCell.max_score)
             .select_from(GradeCell)
             .join(Notebook, GradeCell.notebook_id == Notebook.id)
             .join(Assignment, Notebook.assignment_id == Assignment.id)
             .filter(Assignment.name.in_(modules)))
    for module_id, cell, max_score in query:
        out[module_id][cell] = float(max_score or 0.0)
    return out


def _submissions(cohorts: Iterable[Cohort], modules: list[str]
                 ) -> tuple[dict[str, list[_Submission]], dict[str, dict[str, float]]]:
    """Every graded submission of every cohort, module by module, with its responses (not
    those whose last grading failed: nbgrader keeps their zeros, which say nothing about the
    questions)."""
    subs: dict[str, list[_Submission]] = {m: [] for m in modules}
    maxima: dict[str, dict[str, float]] = {m: {} for m in modules}
    for cohort in cohorts:
        with cohort.gradebook() as gb:
            scores = _cell_scores(gb, modules)
            for module_id, cells in _cell_max(gb, modules).items():
                maxima[module_id].update(cells)
        issues = load_record(cohort.folder)
        for module_id in modules:
            failed = {learner for learner, issue in issues.get(module_id, {}).items()
                      if not issue.graded}
            for learner in sorted(set(scores[module_id]) - failed):
                cells = scores[module_id][learner]
                data = graded_responses(cohort, learner, module_id) or {}
                subs[module_id].append(_Submission(
                    sum(cells.values()), cells, data.get("answers", {}) or {},
                    data.get("scenarios", {}) or {}))
    return subs, maxima


# -- computing ---------------------------------------------------------------------------------

def _correlation(xs: list[float], ys: list[float]) -> float | None:
    n = len(xs)
    if n < 2:
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx <= 1e-12 or syy <= 1e-12:
        return None
    return sxy / math.sqrt(sxx * syy)


def _groups(rest: list[float]) -> tuple[set[int], set[int]]:
    """Indexes of the upper and lower 27% by rest score (stable order breaks ties)."""
    n = len(rest)
    size = max(1, round(GROUP_SHARE * n)) if n >= 2 else 0
    order = sorted(range(n), key=lambda i: rest[i])
    return set(order[n - size:]) if size else set(), set(order[:size])


def _answered(value: Any) -> bool:
    return value not in (None, "", [], {})


def _picked(value: Any, known: dict[str, OptionCount]) -> tuple[str, ...]:
    """The known option ids an answer names (each once), or () for no usable answer."""
    if isinstance(value, str):
        return (value,) if value in known else ()
    if isinstance(value, list):
        return tuple(p for p in dict.fromkeys(value) if isinstance(p, str) and p in known)
    return ()


def _option_counts(options: list[dict[str, Any]], keyed: set[str], chosen: list[Any],
                   upper: set[int], lower: set[int]) -> list[OptionCount]:
    """How many learners chose each option (one id, or a list of ids, per learner), overall
    and in the upper and lower groups; learners with no usable answer count as "no answer"."""
    counts = {o["id"]: OptionCount(o["id"], o["text"], "key" if o["id"] in keyed
                                   else "distractor") for o in options}
    blank = OptionCount(NO_ANSWER, "No answer", "no answer")
    picks = [_picked(value, counts) for value in chosen]
    for field_name, who in (("count", range(len(picks))), ("upper", upper), ("lower", lower)):
        tally = Counter(p for i in who for p in picks[i] or (NO_ANSWER,))
        for option_id, n in tally.items():
            setattr(counts.get(option_id, blank), field_name, n)
    return list(counts.values()) + ([blank] if blank.count else [])


def _flags(check: CheckAnalysis) -> list[ItemFlag]:
    flags = []
    if check.learners and check.facility is not None and check.facility >= EASY:
        flags.append(ItemFlag("easy", f"Almost everyone got this right ({check.facility:.0%}): "
                              "it does little to show who has understood. Consider a harder "
                              "question or more tempting wrong answers."))
    if check.discrimination is not None and check.discrimination < 0:
        flags.append(ItemFlag("key", "Learners who did well on the rest of the module missed "
                              "this more often than those who did poorly: re-check the answer "
                              "key, then the wording."))
    options = [o for part in check.parts for o in part.options] if check.parts else check.options
    if check.kind == "classification":
        return flags
    for option in options:
        if option.role != "distractor" or not check.learners:
            continue
        if option.count == 0:
            flags.append(ItemFlag("unpicked", f"Nobody chose option {option.id} "
                                  f"(\u201c{option.text}\u201d): it tempts no one. Replace it "
                                  "with a mistake people really make, or drop it.", option.id))
        elif (check.upper_size and check.lower_size
              and option.upper / check.upper_size > option.lower / check.lower_size):
            flags.append(ItemFlag("draws-stronger", f"Stronger learners chose option "
                                  f"{option.id} (\u201c{option.text}\u201d) more often than "
                                  "weaker ones: read it again; it may be defensible.",
                                  option.id))
    return flags


def _analyse_check(module_id: str, keyed: KeyedCheck, content: ModuleContent, points: float,
                   subs: list[_Submission]) -> CheckAnalysis:
    spec = (content.exercises if keyed.kind == "classification" else content.checks).get(
        keyed.check, {})
    prompt = str(spec.get("prompt") or spec.get("label") or keyed.check)
    check = CheckAnalysis(module_id, keyed.check, keyed.grade_id, keyed.kind, prompt)
    scores = [s.scores.get(keyed.grade_id, 0.0) for s in subs]
    xs = [score / points if points > 0 else 0.0 for score in scores]
    rest = [s.total - score for s, score in zip(subs, scores, strict=True)]
    check.learners = len(subs)
    check.right = sum(1 for score in scores if points > 0 and score >= points - 1e-9)
    check.facility = sum(xs) / len(xs) if xs else None
    check.discrimination = _correlation(xs, rest)
    upper, lower = _groups(rest)
    check.upper_size, check.lower_size = len(upper), len(lower)
    answers = [s.answers.get(keyed.check) for s in subs]
    if keyed.kind == "classification":
        categories = spec.get("categories", [])
        for item in spec.get("items", []):
            chosen = [a.get(item["id"]) if isinstance(a, dict) else None for a in answers]
            key = keyed.key.get(item["id"]) if isinstance(keyed.key, dict) else None
            check.parts.append(Part(item["id"], item["text"], _option_counts(
                categories, {key} if key else set(), chosen, upper, lower)))
    else:
        key = {keyed.key} if isinstance(keyed.key, str) else set(keyed.key)
        check.options = _option_counts(spec.get("options", []), key, answers, upper, lower)
    check.flags = _flags(check)
    return check


def _ending_of(scenario: dict[str, Any], steps: dict[str, dict[str, Any]],
               state: dict[str, Any]) -> str | None:
    """The ending a learner's latest finished play reached (`steps`: the scenario's
    `steps_by_id`), read from what any version of the responses store recorded: the `ending`
    saved, or for responses saved before endings were recorded, the one the trail's last choice
    leads to. None while the scenario is unfinished."""
    recorded = state.get("ending")
    if isinstance(recorded, str) and recorded in steps and is_ending(steps[recorded]):
        return recorded
    if state.get("finished") is not True:
        return None
    trail = state.get("trail")
    reached = ending_reached(scenario, trail) if isinstance(trail, list) else None
    return reached if reached is not None else NOT_RECORDED


def _analyse_scenario(module_id: str, scenario: dict[str, Any], subs: list[_Submission]
                      ) -> ScenarioAnalysis:
    result = ScenarioAnalysis(module_id, scenario["id"], scenario.get("title", scenario["id"]))
    decisions = {s["id"]: s for s in scenario["steps"] if not is_ending(s)}
    steps = {sid: StepAnalysis(sid, s.get("question", ""), 0, [
        ChoiceCount(c["id"], c["text"], c.get("verdict", "")) for c in s["choices"]])
        for sid, s in decisions.items()}
    by_choice = {(sid, c.id): c for sid, step in steps.items() for c in step.choices}
    endings: dict[str, EndingCount] = {}
    for step in scenario["steps"]:
        if is_ending(step):
            ending = step["ending"]
            endings[step["id"]] = EndingCount(step["id"], ending.get("title", step["id"]),
                                              ending.get("outcome", ""))
    if any(c["next"] == END for s in decisions.values() for c in s["choices"]):
        endings[END] = EndingCount(END, GENERAL_ENDING, "")
    graph = steps_by_id(scenario)
    for sub in subs:
        state = sub.scenarios.get(scenario["id"])
        if not isinstance(state, dict):
            continue
        trail = [t for t in state.get("trail", []) if isinstance(t, dict)] \
            if isinstance(state.get("trail"), list) else []
        if not trail and not state.get("finished") and not state.get("ending"):
            continue
        result.started += 1
        took: set[tuple[str, str]] = set()
        first: dict[str, str] = {}
        for entry in trail:
            pair = (str(entry.get("step")), str(entry.get("choice")))
            if pair in by_choice:
                took.add(pair)
                first.setdefault(pair[0], pair[1])
        for pair in took:
            by_choice[pair].took += 1
        for sid, cid in first.items():
            steps[sid].learners += 1
            by_choice[(sid, cid)].first += 1
        ending = _ending_of(scenario, graph, state)
        if ending is not None:
            result.finished += 1
            if ending not in endings:
                endings[ending] = EndingCount(ending, GENERAL_ENDING if ending == END else
                                              "Finished; which ending was not recorded (a "
                                              "replay, or saved before endings were recorded)",
                                              "")
            endings[ending].count += 1
    result.steps = list(steps.values())
    result.endings = list(endings.values())
    risky = [(steps[sid], c) for (sid, _), c in by_choice.items()
             if c.verdict == "risky" and c.took]
    if risky:
        result.risky = max(risky, key=lambda pair: pair[1].took)
    return result


@lru_cache(maxsize=32)
def _module_source(root: str, module_id: str) -> tuple[str, tuple[KeyedCheck, ...]]:
    notebook = Path(root) / "source" / module_id / f"{module_id}.ipynb"
    return module_title(notebook), tuple(answer_keys(notebook))


def item_analysis(cohorts: list[Cohort], modules: list[str] | None = None) -> ItemAnalysis:
    """The item analysis of one cohort, or of several pooled (they share the course folder)."""
    if not cohorts:
        return ItemAnalysis([], [])
    root = cohorts[0].root
    modules = modules if modules is not None else module_ids(root)
    subs, maxima = _submissions(cohorts, modules)
    out = []
    for module_id in modules:
        title, keys = _module_source(str(root), module_id)
        content = module_content(root / "source" / module_id, module_id)
        keyed_ids = {k.check for k in keys}
        counted = [s for s in subs[module_id]
                   if any(_answered(s.answers.get(c)) for c in keyed_ids)]
        module = ModuleAnalysis(module_id, title, len(counted))
        for keyed in keys:
            points = maxima[module_id].get(keyed.grade_id, 0.0)
            module.checks.append(_analyse_check(module_id, keyed, content, points, counted))
        for scenario in content.scenarios.values():
            module.scenarios.append(_analyse_scenario(module_id, scenario, subs[module_id]))
        out.append(module)
    return ItemAnalysis([c.name for c in cohorts], out)
