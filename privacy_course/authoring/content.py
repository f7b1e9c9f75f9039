"""A module's content as data: scenarios, knowledge checks and work-product prompts in YAML.

Each YAML file in a module folder has a fixed name and a JSON schema. Authors get an error that
names the file and the key path at fault (`checks.yaml: checks[2].options[0].text: ...`), and the
schemas forbid any answer-key field, so a graded key cannot slip into content that ships to
learners: keys live only in nbgrader's hidden tests.

Scenarios (`scenarios.yaml`) are dilemmas with consequences:

    scenarios:
      - id: ransom                       # referenced by the notebook: course.scenario("ransom")
        title: The attacker sends a price
        steps:
          - id: start                    # the first step is a decision
            situation: ...
            question: ...
            variants:                    # optional: text that depends on earlier choices
              - {when: {insurer: called}, situation: ...}
            choices:
              - id: pay
                text: ...
                verdict: best | acceptable | risky
                feedback: ...            # why, in plain words
                cite: ...                # the source of the reason
                next: paid               # any step or ending of this scenario (or `end`)
                sets: {paid: "yes"}      # optional facts for later variants
          - id: paid-and-extorted        # an ending: no question, no choices
            ending:
              outcome: good | mixed | poor
              title: ...
              summary: ...               # what the path cost or achieved
              variants: [{when: {...}, summary: ...}]

Checks (`checks.yaml`) may carry `explanation` and `source`, shown only in feedback: the build
strips them (`FEEDBACK_ONLY`) from every copy that ships to learners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from privacy_course.authoring.scenario_graph import END, can_finish, is_ending, reachable
from privacy_course.errors import CourseError

# The hidden folder, beside a built notebook, that holds the module's content files.
CONTENT_DIR = ".content"

ID = {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$", "maxLength": 60}
TEXT = {"type": "string", "minLength": 1}
# How an ending turned out for the district, worst last (drawn and worded by the widget).
OUTCOMES = ("good", "mixed", "poor")

_OPTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "text"],
    "properties": {"id": ID, "text": TEXT},
}

FACTS = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": ID,
    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 60},
}

_CHOICE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "text", "verdict", "feedback", "cite", "next"],
    "properties": {
        "id": ID,
        "text": TEXT,
        "verdict": {"enum": ["best", "acceptable", "risky"]},
        "feedback": TEXT,
        "cite": TEXT,
        "next": ID,
        # Facts this choice records for later steps: {fact: value}, strings only.
        "sets": FACTS,
        # The feedback depends on state law: the page adds her state's rule on this topic
        # (privacy_course.learner.your_state), or says that it depends on her state.
        "state_topic": {"enum": ["contracts", "public_posting", "parent_rights",
                                 "breach_notice", "biometrics", "roles_training",
                                 "vendor_duties"]},
    },
}

# A variant replaces some of a step's text when every fact in `when` was recorded with that
# value: a decision step's `situation` (and `question`), an ending's `title`, `summary` or
# `outcome`. Which keys fit which kind of step is checked with the scenario graph.
_VARIANT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["when"],
    "minProperties": 2,
    "properties": {
        "when": FACTS,
        "situation": TEXT,
        "question": TEXT,
        "title": TEXT,
        "summary": TEXT,
        "outcome": {"enum": list(OUTCOMES)},
    },
}
_VARIANTS = {"type": "array", "minItems": 1, "items": _VARIANT}

_ENDING = {
    "type": "object",
    "additionalProperties": False,
    "required": ["outcome", "title", "summary"],
    "properties": {
        "outcome": {"enum": list(OUTCOMES)},
        "title": TEXT,
        "summary": TEXT,
        "variants": _VARIANTS,
    },
}

# A step is a decision (situation, question, choices) or an ending (`ending`), never both.
_STEP = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id"],
    "properties": {
        "id": ID,
        "situation": TEXT,
        "question": TEXT,
        "choices": {"type": "array", "minItems": 2, "items": _CHOICE},
        "ending": _ENDING,
        "variants": _VARIANTS,
    },
    "if": {"required": ["ending"]},
    "then": {"not": {"anyOf": [{"required": ["situation"]}, {"required": ["question"]},
                               {"required": ["choices"]}]}},
    "else": {"required": ["situation", "question", "choices"]},
}

_SCENARIO = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "steps"],
    "properties": {
        "id": ID,
        "title": TEXT,
        "steps": {"type": "array", "minItems": 1, "items": _STEP},
    },
}

_EXERCISE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "kind", "label", "categories", "items"],
    "properties": {
        "id": ID,
        "kind": {"enum": ["classify"]},
        "label": TEXT,
        "help": TEXT,
        "categories": {"type": "array", "minItems": 2, "items": _OPTION},
        "items": {"type": "array", "minItems": 1, "items": _OPTION},
    },
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "scenarios.yaml": {
        "type": "object",
        "additionalProperties": False,
        "required": ["scenarios"],
        "properties": {"scenarios": {"type": "array", "minItems": 1, "items": _SCENARIO}},
    },
    "checks.yaml": {
        "type": "object",
        "additionalProperties": False,
        "required": ["checks"],
        "properties": {
            "checks": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "kind", "prompt", "options"],
                    "properties": {
                        "id": ID,
                        "kind": {"enum": ["single", "multiple"]},
                        "prompt": TEXT,
                        "options": {"type": "array", "minItems": 2, "items": _OPTION},
                        # Feedback only (why the keyed answer is right, and the citation):
                        # the build strips both before anything ships to learners.
                        "explanation": TEXT,
                        "source": TEXT,
                    },
                },
            }
        },
    },
    "exercises.yaml": {
        "type": "object",
        "additionalProperties": False,
        "required": ["exercises"],
        "properties": {"exercises": {"type": "array", "minItems": 1, "items": _EXERCISE}},
    },
    "prompts.yaml": {
        "type": "object",
        "additionalProperties": False,
        "required": ["prompts"],
        "properties": {
            "prompts": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["id", "kind", "label"],
                    "properties": {
                        "id": ID,
                        "kind": {"enum": ["text", "checklist", "choice"]},
                        "label": TEXT,
                        "help": TEXT,
                        "placeholder": TEXT,
                        "required": {"type": "boolean"},
                        "items": {"type": "array", "minItems": 1, "items": _OPTION},
                    },
                    "if": {"properties": {"kind": {"enum": ["checklist", "choice"]}}},
                    "then": {"required": ["items"]},
                    "else": {"not": {"required": ["items"]}},
                },
            }
        },
    },
}

# Check fields for feedback only, never shipped to learners (see authoring/build.py).
FEEDBACK_ONLY = ("explanation", "source")
# What a variant may replace, by kind of step.
STEP_VARIANT_KEYS = frozenset({"situation", "question"})
ENDING_VARIANT_KEYS = frozenset({"title", "summary", "outcome"})
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ContentError(CourseError, ValueError):
    """A module's YAML is invalid. The message names the file and the key path."""


@dataclass(frozen=True)
class ModuleContent:
    """Everything a module's widgets need, as loaded and validated from its YAML files."""

    module_id: str
    folder: Path
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    prompts: dict[str, dict[str, Any]] = field(default_factory=dict)
    exercises: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def required_prompts(self) -> list[str]:
        return [pid for pid, p in self.prompts.items() if p.get("required", True)]


def _key_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def load_yaml_file(path: Path, validate: bool = True) -> dict[str, Any]:
    """Read one content file and validate it against the schema for its name.

    The build validates every file; a learner's kernel reads the already-validated copies with
    `validate=False`, because importing jsonschema alone costs over a second."""
    schema = SCHEMAS.get(path.name)
    if schema is None:
        raise ContentError(
            f"{path}: unknown content file name; expected one of {', '.join(sorted(SCHEMAS))}"
        )
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ContentError(f"{path}: not valid YAML: {exc}") from exc
    if not validate:
        return data
    from jsonschema import Draft202012Validator

    errors = sorted(
        Draft202012Validator(schema).iter_errors(data), key=lambda e: list(e.absolute_path)
    )
    if errors:
        lines = [f"{path.name}: {_key_path(e.absolute_path)}: {e.message}" for e in errors]
        raise ContentError(f"{path} is invalid:\n  " + "\n  ".join(lines))
    return data


def _unique(items: list[dict[str, Any]], where: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for i, item in enumerate(items):
        if item["id"] in out:
            raise ContentError(f"{where}[{i}].id: duplicate id {item['id']!r}")
        out[item["id"]] = item
    return out


def _check_scenario_graph(path: Path, index: int, scenario: dict[str, Any]) -> None:
    """What a schema cannot say: every `next` names a step, ending or `end`; every step and
    ending is reached from the first step; an ending can be reached from every step (no dead
    loop that strands a learner); variants fit their step and can match; the first step is a
    decision."""
    where = f"{path.name}: scenarios[{index}]"
    steps = _unique(scenario["steps"], f"{where}.steps")
    if END in steps:
        raise ContentError(f"{where}.steps: a step may not be called {END!r}")
    if is_ending(scenario["steps"][0]):
        raise ContentError(f"{where}.steps[0]: the first step must be a decision, not an ending")
    recorded: dict[str, set[str]] = {}
    for step in scenario["steps"]:
        for made in step.get("choices", []):
            for fact, value in made.get("sets", {}).items():
                recorded.setdefault(fact, set()).add(value)
    for s, step in enumerate(scenario["steps"]):
        _unique(step.get("choices", []), f"{where}.steps[{s}].choices")
        for c, made in enumerate(step.get("choices", [])):
            if made["next"] != END and made["next"] not in steps:
                raise ContentError(
                    f"{where}.steps[{s}].choices[{c}].next: {made['next']!r} is neither a step "
                    f"or ending of this scenario nor {END!r}"
                )
        allowed = ENDING_VARIANT_KEYS if is_ending(step) else STEP_VARIANT_KEYS
        lists = [(f"{where}.steps[{s}].variants", step.get("variants", []))]
        if is_ending(step):
            lists.append((f"{where}.steps[{s}].ending.variants",
                          step["ending"].get("variants", [])))
        for at, variants in lists:
            for v, variant in enumerate(variants):
                wrong = sorted(set(variant) - allowed - {"when"})
                if wrong:
                    kind = "an ending" if is_ending(step) else "a decision step"
                    raise ContentError(
                        f"{at}[{v}]: {', '.join(wrong)} cannot vary in {kind} (it may vary: "
                        f"{', '.join(sorted(allowed))})")
                for fact, value in variant["when"].items():
                    if value not in recorded.get(fact, set()):
                        raise ContentError(
                            f"{at}[{v}].when.{fact}: no choice of this scenario sets {fact!r} "
                            f"to {value!r}, so this variant could never be shown")
    reach = set(reachable(scenario))
    unreachable = [sid for sid in steps if sid not in reach]
    if unreachable:
        raise ContentError(f"{where}: steps or endings never reached from the first step: "
                           f"{unreachable}")
    finishing = can_finish(scenario)
    stuck = [sid for sid in steps if sid not in finishing]
    if stuck:
        raise ContentError(f"{where}: steps from which the scenario can never end: {stuck}")


def load_module_content(
    folder: Path | str, module_id: str | None = None, validate: bool = True
) -> ModuleContent:
    """Load and validate every content file of a module folder (any of them may be absent)."""
    folder = Path(folder)
    module_id = module_id or folder.name
    parts: dict[str, dict[str, dict[str, Any]]] = {}
    for name, key in (("scenarios.yaml", "scenarios"), ("checks.yaml", "checks"),
                      ("prompts.yaml", "prompts"), ("exercises.yaml", "exercises")):
        path = folder / name
        if not path.exists():
            parts[key] = {}
            continue
        data = load_yaml_file(path, validate)
        parts[key] = _unique(data[key], f"{name}: {key}")
        if not validate:
            continue
        if key == "scenarios":
            for i, scenario in enumerate(data[key]):
                _check_scenario_graph(path, i, scenario)
        if key == "checks":
            for i, check in enumerate(data[key]):
                _unique(check["options"], f"{name}: checks[{i}].options")
        if key == "exercises":
            for i, exercise in enumerate(data[key]):
                _unique(exercise["categories"], f"{name}: exercises[{i}].categories")
                _unique(exercise["items"], f"{name}: exercises[{i}].items")
    ids = [i for group in parts.values() for i in group]
    clashes = sorted({i for i in ids if ids.count(i) > 1})
    if clashes:
        raise ContentError(
            f"{folder}: ids used by more than one scenario, check or prompt: {clashes}; they share "
            "one responses file, so each must be unique in the module"
        )
    return ModuleContent(module_id=module_id, folder=folder, **parts)


@lru_cache(maxsize=16)
def _cached(folder: str, module_id: str, mtimes: tuple[float, ...]) -> ModuleContent:
    return load_module_content(folder, module_id, validate=False)


def content_folder(notebook_folder: Path | str) -> Path:
    """Where a built module's content files are: the hidden `.content` folder beside the
    notebook (or, in an authored module folder, the folder itself)."""
    folder = Path(notebook_folder)
    hidden = folder / CONTENT_DIR
    return hidden if hidden.is_dir() else folder


def module_content(folder: Path | str, module_id: str) -> ModuleContent:
    """The content as a notebook reads it: the build-validated YAML shipped with the notebook,
    loaded without the schema check and cached until one of the files changes."""
    folder = content_folder(Path(folder).resolve())
    mtimes = tuple(
        (folder / n).stat().st_mtime if (folder / n).exists() else 0.0 for n in sorted(SCHEMAS)
    )
    return _cached(str(folder), module_id, mtimes)
