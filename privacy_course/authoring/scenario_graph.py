"""A scenario as a graph: decision steps, endings, the facts choices record, and what a path
reaches. One reading of the YAML shared by the build's validation, the learner's widget, the
scenario maps and the grader's integrity check, so that all four agree on what "reached an
ending" means.

A scenario's steps are either decisions (`situation`, `question`, `choices`) or endings
(`ending: {outcome, title, summary}`). A choice's `next` names any step or ending of the same
scenario, or `end`, the generic ending that scenarios written before endings existed use.
A choice may record facts (`sets: {fact: value}`); a later step's `variants` replace its text
when every fact in a variant's `when` was recorded with that value (the first match wins).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

END = "end"

# What the legacy `next: end` leads to: an ending with no outcome of its own.
GENERIC_ENDING: dict[str, Any] = {
    "id": END,
    "ending": {"outcome": "", "title": "Scenario finished", "summary": ""},
}


def is_ending(step: Mapping[str, Any]) -> bool:
    return "ending" in step


def steps_by_id(scenario: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every step and ending by id, with the generic ending under `end`."""
    steps = {step["id"]: step for step in scenario["steps"]}
    steps.setdefault(END, GENERIC_ENDING)
    return steps


def first_step(scenario: Mapping[str, Any]) -> str:
    return scenario["steps"][0]["id"]


def successors(step: Mapping[str, Any]) -> list[str]:
    """The ids a step's choices lead to, in order, each once."""
    out: list[str] = []
    for choice in step.get("choices", []):
        if choice["next"] not in out:
            out.append(choice["next"])
    return out


def reachable(scenario: Mapping[str, Any]) -> list[str]:
    """Ids of the steps and endings a learner can reach from the first step, breadth first."""
    steps = steps_by_id(scenario)
    order = [first_step(scenario)]
    for sid in order:
        for nxt in successors(steps.get(sid, {})):
            if nxt in steps and nxt not in order:
                order.append(nxt)
    return order


def reachable_endings(scenario: Mapping[str, Any]) -> list[str]:
    """The endings a learner can reach (ids, `end` for the generic one)."""
    steps = steps_by_id(scenario)
    return [sid for sid in reachable(scenario) if is_ending(steps[sid])]


def branches(scenario: Mapping[str, Any]) -> bool:
    """A scenario branches when two or more distinct endings can be reached."""
    return len(reachable_endings(scenario)) >= 2


def can_finish(scenario: Mapping[str, Any]) -> set[str]:
    """Ids of the steps from which some path leads to an ending."""
    steps = steps_by_id(scenario)
    done = {sid for sid, step in steps.items() if is_ending(step)}
    changed = True
    while changed:
        changed = False
        for sid, step in steps.items():
            if sid not in done and any(n in done for n in successors(step)):
                done.add(sid)
                changed = True
    return done


def choice(step: Mapping[str, Any], choice_id: str) -> dict[str, Any] | None:
    return next((c for c in step.get("choices", []) if c["id"] == choice_id), None)


def facts_of(scenario: Mapping[str, Any], trail: Iterable[Any]) -> dict[str, str]:
    """The facts recorded along a trail of {step, choice} entries (later choices win)."""
    steps = steps_by_id(scenario)
    facts: dict[str, str] = {}
    for entry in trail:
        if not isinstance(entry, Mapping):
            continue
        made = choice(steps.get(str(entry.get("step")), {}), str(entry.get("choice")))
        if made is not None:
            facts.update(made.get("sets", {}))
    return facts


def _matches(when: Mapping[str, str], facts: Mapping[str, str]) -> bool:
    return all(facts.get(key) == value for key, value in when.items())


def resolve(step: Mapping[str, Any], facts: Mapping[str, str]) -> dict[str, Any]:
    """The step as the learner sees it given the facts recorded so far: the first matching
    variant's text replaces the step's own (an ending's variants may sit on the step or inside
    `ending`)."""
    out = dict(step)
    if is_ending(step):
        ending = dict(step["ending"])
        for variant in [*step["ending"].get("variants", []), *step.get("variants", [])]:
            if _matches(variant["when"], facts):
                ending.update({k: v for k, v in variant.items() if k != "when"})
                break
        ending.pop("variants", None)
        out["ending"] = ending
    else:
        for variant in step.get("variants", []):
            if _matches(variant["when"], facts):
                out.update({k: v for k, v in variant.items() if k != "when"})
                break
    out.pop("variants", None)
    return out


def ending_reached(scenario: Mapping[str, Any], trail: Iterable[Any]) -> str | None:
    """The ending the last choice of a trail leads to, or None when it leads to a decision
    (or the trail no longer matches the scenario)."""
    steps = steps_by_id(scenario)
    entries = [t for t in trail if isinstance(t, Mapping)]
    if not entries:
        return None
    made = choice(steps.get(str(entries[-1].get("step")), {}), str(entries[-1].get("choice")))
    if made is None:
        return None
    target = steps.get(made["next"])
    return made["next"] if target is not None and is_ending(target) else None


def leads_to_ending(scenario: Mapping[str, Any], step_id: Any, choice_id: Any) -> bool:
    """Whether taking `choice_id` at `step_id` ends the scenario."""
    return ending_reached(scenario, [{"step": step_id, "choice": choice_id}]) is not None
