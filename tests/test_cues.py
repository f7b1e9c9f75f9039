"""No cue to the best answer, over the whole course, and scenarios that branch.

A learner who always clicks the longest option, or the first one, must do no better than
chance; and a module's scenarios must be dilemmas, not quizzes with a retry. Per module (so a
failure names the module and lists the scenarios or checks at fault) and over the course:

- Length. For each decision step, is a best choice the longest text? For each knowledge check,
  is a keyed option (the key read from the hidden tests, `course.expect(...)` in
  modules/<id>/<id>.md) the longest? (And the same for the shortest, so that trimming every
  right answer does not just turn the cue around.) By chance that happens with probability
  (number of right options) / (number of options) at each question, ties shared. The count of
  such questions then follows a Poisson-binomial distribution; the test fails when the count
  observed is so high that chance gives it less than `ALPHA` (5%) probability (an exact
  one-sided test).
- Position. Choices and options are shown in each learner's own order
  (`privacy_course.learner.order.shown_order`, what the widgets call). For `LEARNERS` simulated
  learners, the right option must come first no more often than chance allows, by the same
  exact test over every (learner, question).
- Branching. At least half of each module's scenarios reach two or more distinct endings (ending
  steps with different titles), and no more than half of a module's risky or acceptable choices
  lead straight back to the question they were made at (a retry, not a consequence).
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import pytest

from privacy_course.authoring.build import module_ids
from privacy_course.authoring.content import ModuleContent, load_module_content
from privacy_course.authoring.scenario_graph import reachable_endings, steps_by_id
from privacy_course.learner.order import shown_order

from .learner import answer_key

ROOT = Path(__file__).resolve().parents[1]
MODULES = module_ids(ROOT)
ALPHA = 0.05
LEARNERS = 200
EXACT_UP_TO = 300

# One question: (where, option ids in file order, the right ids, option texts by id).
Question = tuple[str, list[str], set[str], dict[str, str]]


@cache
def content(module_id: str) -> ModuleContent:
    return load_module_content(ROOT / "modules" / module_id, module_id)


def scenario_questions(module_id: str) -> list[Question]:
    out: list[Question] = []
    for sid, scenario in content(module_id).scenarios.items():
        for step in scenario["steps"]:
            if "choices" not in step:
                continue
            out.append((f"scenario {sid}, step {step['id']}",
                        [c["id"] for c in step["choices"]],
                        {c["id"] for c in step["choices"] if c["verdict"] == "best"},
                        {c["id"]: c["text"] for c in step["choices"]}))
    return out


def check_questions(module_id: str) -> list[Question]:
    key = answer_key(ROOT / "modules" / module_id / f"{module_id}.md")
    out: list[Question] = []
    for cid, check in content(module_id).checks.items():
        right = key.get(cid)
        assert right is not None, f"{module_id}: no course.expect({cid!r}, ...) in the .md"
        out.append((f"check {cid}", [o["id"] for o in check["options"]],
                    {right} if isinstance(right, str) else set(right),
                    {o["id"]: o["text"] for o in check["options"]}))
    return out


def length(text: str) -> int:
    return len(" ".join(text.split()))


def longest_share(question: Question, extreme=max) -> tuple[float, float]:
    """(how much of "the longest option" (or, with `min`, the shortest) is a right one, what
    chance gives): ties share."""
    _where, ids, right, texts = question
    top = extreme(length(texts[i]) for i in ids)
    longest = [i for i in ids if length(texts[i]) == top]
    return sum(i in right for i in longest) / len(longest), len(right) / len(ids)


def tail(chances: list[float], observed: float) -> float:
    """P(X >= observed) for X a sum of independent Bernoulli(chances) (Poisson binomial):
    exact up to `EXACT_UP_TO` questions, beyond that the normal approximation (with continuity
    correction), which is very close at such sizes and keeps the test fast."""
    if len(chances) > EXACT_UP_TO:
        mean = sum(chances)
        sd = math.sqrt(sum(p * (1 - p) for p in chances))
        return 0.5 * math.erfc((math.ceil(observed) - 0.5 - mean) / (sd * math.sqrt(2)))
    dist = [1.0]
    for p in chances:
        dist = [(dist[k] if k < len(dist) else 0.0) * (1 - p)
                + (dist[k - 1] * p if k >= 1 else 0.0) for k in range(len(dist) + 1)]
    need = int(-(-observed // 1))  # ceil: a shared tie counts toward the next whole question
    return sum(dist[need:])


def length_report(questions: list[Question], extreme=max) -> tuple[float, float, list[str]]:
    shares = [longest_share(q, extreme) for q in questions]
    observed = sum(s for s, _ in shares)
    flagged = [q[0] for q, (s, _) in zip(questions, shares, strict=True) if s > 0]
    return observed, tail([c for _, c in shares], observed), flagged


def assert_no_length_cue(kind: str, scope: str, questions: list[Question]) -> None:
    """Neither the longest nor the shortest option points to the right one (a writer who
    trims every best choice only moves the cue)."""
    if not questions:
        return
    expected = sum(longest_share(q)[1] for q in questions)
    for extreme, word in ((max, "longest"), (min, "shortest")):
        observed, p, flagged = length_report(questions, extreme)
        assert p >= ALPHA, (
            f"{scope}: in {observed:g} of {len(questions)} {kind} the right option is the "
            f"{word} (chance: {expected:.1f}; P = {p:.4f} < {ALPHA}). Even out the lengths of: "
            + "; ".join(flagged))


@pytest.mark.parametrize("module_id", MODULES)
def test_best_choice_is_not_the_longest_more_than_chance(module_id: str):
    assert_no_length_cue("scenario steps", module_id, scenario_questions(module_id))


@pytest.mark.parametrize("module_id", MODULES)
def test_keyed_option_is_not_the_longest_more_than_chance(module_id: str):
    assert_no_length_cue("knowledge checks", module_id, check_questions(module_id))


def test_no_length_cue_over_the_whole_course():
    for kind, collect in (("scenario steps", scenario_questions),
                          ("knowledge checks", check_questions)):
        assert_no_length_cue(kind, "the course", [q for m in MODULES for q in collect(m)])


@pytest.mark.parametrize("module_id", MODULES)
def test_right_option_is_not_shown_first_more_than_chance(module_id: str):
    questions = scenario_questions(module_id) + check_questions(module_id)
    chances, firsts = [], 0
    for learner in range(LEARNERS):
        for where, ids, right, _texts in questions:
            key = where.split(", step ")
            key = f"{key[0].removeprefix('scenario ')}/{key[1]}" if len(key) == 2 else \
                where.removeprefix("check ")
            shown = shown_order(f"learner-{learner}", key, [{"id": i} for i in ids])
            firsts += shown[0]["id"] in right
            chances.append(len(right) / len(ids))
    p = tail(chances, firsts)
    assert p >= ALPHA, (f"{module_id}: the right option is shown first {firsts} times of "
                        f"{len(chances)} (chance {sum(chances):.0f}; P = {p:.4f})")


def test_the_widgets_show_the_order_the_cue_test_measures(tmp_path: Path):
    """The widgets order a step's choices by "<scenario>/<step>" and a check's options by its
    id, as the position test above does, so that test measures what learners see."""
    from privacy_course.learner.responses import ResponsesStore
    from privacy_course.learner.widgets import ScenarioWidget, choice_check

    module_id = MODULES[0]
    store = ResponsesStore(module_id, tmp_path / module_id)
    for learner in ("learner-1", "learner-2", "learner-3"):
        for sid, scenario in content(module_id).scenarios.items():
            step = scenario["steps"][0]
            widget = ScenarioWidget(scenario, store, seed=learner)
            expected = shown_order(learner, f"{sid}/{step['id']}", step["choices"])
            assert [b.description for b in widget.choice_buttons] == [c["text"] for c in expected]
        for cid, check in content(module_id).checks.items():
            controls = choice_check(check, store, seed=learner).controls
            shown = ([value for _label, value in controls[0].options] if check["kind"] == "single"
                     else [box.option_id for box in controls])
            assert shown == [o["id"] for o in shown_order(learner, cid, check["options"])]


def distinct_endings(scenario: dict) -> set[str]:
    steps = steps_by_id(scenario)
    return {steps[e]["ending"]["title"] for e in reachable_endings(scenario) if e != "end"}


@pytest.mark.parametrize("module_id", MODULES)
def test_at_least_half_the_scenarios_branch(module_id: str):
    scenarios = content(module_id).scenarios
    flat = sorted(sid for sid, s in scenarios.items() if len(distinct_endings(s)) < 2)
    branching = len(scenarios) - len(flat)
    assert 2 * branching >= len(scenarios), (
        f"{module_id}: only {branching} of {len(scenarios)} scenarios reach two or more distinct "
        f"endings; these have fewer: {', '.join(flat)}")


@pytest.mark.parametrize("module_id", MODULES)
def test_most_risky_choices_have_consequences_not_retries(module_id: str):
    retries, others = [], 0
    for sid, scenario in content(module_id).scenarios.items():
        for step in scenario["steps"]:
            for choice in step.get("choices", []):
                if choice["verdict"] == "best":
                    continue
                others += 1
                if choice["next"] == step["id"]:
                    retries.append(f"{sid}/{step['id']}/{choice['id']}")
    assert 2 * len(retries) <= others, (
        f"{module_id}: {len(retries)} of {others} risky or acceptable choices lead straight back "
        f"to the same question: {', '.join(retries)}")


def test_the_tail_is_right():
    assert tail([0.5] * 400, 215) == pytest.approx(0.0735, abs=0.002)  # binomial: 0.0735
    assert tail([0.5, 0.5], 2) == pytest.approx(0.25)
    assert tail([1 / 3] * 3, 0) == pytest.approx(1.0)
    assert tail([0.25] * 4, 3) == pytest.approx(4 * 0.25**3 * 0.75 + 0.25**4)
