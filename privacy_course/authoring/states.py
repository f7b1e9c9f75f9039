"""The state student-privacy dataset: one YAML file per state in `states/`, loaded and checked.

The course adapts to a learner's state from these files, so an entry that is uncited, undated or
silently missing a topic would mislead a district leader. Every file is checked against the format
in `states/README.md`, and every problem is reported at once, one line each, naming the file and
the key path (`states/ny.yaml: rules[3].citation: missing`), with the same `ContentError` module
content raises, so authors see one kind of error everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from privacy_course.authoring.content import ContentError
from privacy_course.config import find_course_root

TOPICS: tuple[str, ...] = (
    "contracts",
    "public_posting",
    "parent_rights",
    "breach_notice",
    "biometrics",
    "roles_training",
    "vendor_duties",
)
PARTIES: tuple[str, ...] = ("district", "vendor", "state_agency")
STATUSES: tuple[str, ...] = ("settled", "unsettled")
STATES_DIR = "states"

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID = re.compile(r"^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_URL = re.compile(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$")

_TOP_KEYS = {"state", "name", "current_as_of", "summary", "statutes", "rules", "silent"}
_TOP_REQUIRED = _TOP_KEYS - {"silent"}
_STATUTE_KEYS = {"id", "title", "citation", "binds", "url", "verified"}
_RULE_REQUIRED = {"id", "topic", "applies_to", "rule", "citation", "url", "verified", "status"}
_RULE_KEYS = _RULE_REQUIRED | {"deadline", "note"}
_SILENT_KEYS = {"topic", "note", "verified"}


@dataclass(frozen=True)
class Statute:
    """One of the state's main student-privacy laws, and whom it binds."""

    id: str
    title: str
    citation: str
    binds: tuple[str, ...]
    url: str
    verified: dt.date


@dataclass(frozen=True)
class StateRule:
    """One thing a district leader must act on, with the section that says so."""

    id: str
    topic: str
    applies_to: tuple[str, ...]
    rule: str
    citation: str
    url: str
    verified: dt.date
    status: str
    deadline: str | None = None
    note: str | None = None

    @property
    def settled(self) -> bool:
        return self.status == "settled"


@dataclass(frozen=True)
class Silence:
    """A topic on which the state has no rule of its own (or one the course has not verified)."""

    topic: str
    note: str
    verified: dt.date


@dataclass(frozen=True)
class StateProfile:
    """Everything the dataset holds for one state, validated."""

    state: str
    name: str
    current_as_of: str
    summary: str
    statutes: tuple[Statute, ...]
    rules: tuple[StateRule, ...]
    silent: tuple[Silence, ...]
    path: Path

    def rules_for(self, topic: str) -> tuple[StateRule, ...]:
        """The state's rules on one topic (empty when the state is silent on it)."""
        if topic not in TOPICS:
            raise KeyError(f"unknown topic {topic!r}; topics are {', '.join(TOPICS)}")
        return tuple(r for r in self.rules if r.topic == topic)

    def silence_on(self, topic: str) -> Silence | None:
        """The `silent` entry for a topic, if the state has no rule of its own on it."""
        return next((s for s in self.silent if s.topic == topic), None)


class _Problems:
    """Collects one line per problem, so an author fixes a file in one pass, not one per run."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.lines: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.lines.append(f"{self.label}: {where}: {message}")

    def raise_if_any(self) -> None:
        if self.lines:
            raise ContentError(f"{self.label} is invalid:\n  " + "\n  ".join(self.lines))


def _text(value: Any, where: str, problems: _Problems) -> bool:
    if not isinstance(value, str) or not value.strip():
        problems.add(where, "must be non-empty text")
        return False
    return True


def _date(value: Any, where: str, problems: _Problems) -> dt.date | None:
    """An ISO date (YAML reads an unquoted 2026-12-03 as a date already), not in the future."""
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        problems.add(where, f"must be an ISO date YYYY-MM-DD, not {value!r}")
        return None
    if isinstance(value, str):
        try:
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                raise ValueError(value)
            value = dt.date.fromisoformat(value)
        except ValueError:
            problems.add(where, f"must be an ISO date YYYY-MM-DD, not {value!r}")
            return None
    if value > dt.date.today():
        problems.add(where, f"{value.isoformat()} is in the future")
        return None
    return value


def _verified(item: dict[str, Any], where: str, problems: _Problems) -> dt.date | None:
    """The item's `verified` date, or None when it is absent (already reported) or bad."""
    return _date(item["verified"], f"{where}.verified", problems) if "verified" in item else None


def _url(value: Any, where: str, problems: _Problems) -> None:
    if not isinstance(value, str) or not _URL.match(value):
        problems.add(where, f"must be an https:// address, not {value!r}")


def _parties(value: Any, where: str, problems: _Problems) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        problems.add(where, f"must be a non-empty list of {', '.join(PARTIES)}")
        return ()
    for i, party in enumerate(value):
        if party not in PARTIES:
            problems.add(f"{where}[{i}]", f"{party!r} is not one of {', '.join(PARTIES)}")
    if len(set(map(str, value))) != len(value):
        problems.add(where, "lists a party twice")
    return tuple(value)


def _keys(item: Any, where: str, required: set[str], allowed: set[str],
          problems: _Problems) -> bool:
    """Report missing and unknown keys; False when the item is not a mapping at all."""
    if not isinstance(item, dict):
        problems.add(where, "must be a mapping of keys to values")
        return False
    prefix = f"{where}." if where != "(top level)" else ""
    for key in sorted(required - item.keys()):
        problems.add(f"{prefix}{key}", "missing")
    for key in sorted(set(map(str, item)) - allowed):
        problems.add(f"{prefix}{key}", f"unknown key; allowed: {', '.join(sorted(allowed))}")
    return True


def _list(data: dict[str, Any], key: str, problems: _Problems) -> list[Any]:
    value = data.get(key, [])
    if value is None:
        value = []
    if not isinstance(value, list):
        problems.add(key, "must be a list")
        return []
    return value


def _check_statutes(data: dict[str, Any], problems: _Problems) -> None:
    items = _list(data, "statutes", problems)
    if "statutes" in data and not items:
        problems.add("statutes", "must list at least one statute")
    for i, item in enumerate(items):
        where = f"statutes[{i}]"
        if not _keys(item, where, _STATUTE_KEYS, _STATUTE_KEYS, problems):
            continue
        _check_cited(item, where, ("title", "citation"), "binds", problems)


def _check_rules(data: dict[str, Any], problems: _Problems) -> None:
    for i, item in enumerate(_list(data, "rules", problems)):
        where = f"rules[{i}]"
        if not _keys(item, where, _RULE_REQUIRED, _RULE_KEYS, problems):
            continue
        if "topic" in item and item["topic"] not in TOPICS:
            problems.add(f"{where}.topic", f"{item['topic']!r} is not one of {', '.join(TOPICS)}")
        if "status" in item and item["status"] not in STATUSES:
            problems.add(f"{where}.status", f"{item['status']!r} is not one of "
                         f"{', '.join(STATUSES)}")
        if item.get("status") == "unsettled" and "note" not in item:
            problems.add(f"{where}.note", "missing: an unsettled rule must say what is open, and "
                         "cite where")
        _check_cited(item, where, ("rule", "citation", "deadline", "note"), "applies_to",
                     problems)


def _check_cited(item: dict[str, Any], where: str, texts: tuple[str, ...], parties: str,
                 problems: _Problems) -> None:
    """What a statute and a rule share: plain texts, the official URL, whom it binds, and
    when it was verified."""
    for key in texts:
        if key in item:
            _text(item[key], f"{where}.{key}", problems)
    if "url" in item:
        _url(item["url"], f"{where}.url", problems)
    if parties in item:
        _parties(item[parties], f"{where}.{parties}", problems)
    _verified(item, where, problems)


def _check_silent(data: dict[str, Any], problems: _Problems) -> None:
    seen: set[str] = set()
    for i, item in enumerate(_list(data, "silent", problems)):
        where = f"silent[{i}]"
        if not _keys(item, where, _SILENT_KEYS, _SILENT_KEYS, problems):
            continue
        topic = item.get("topic")
        if "topic" in item and topic not in TOPICS:
            problems.add(f"{where}.topic", f"{topic!r} is not one of {', '.join(TOPICS)}")
        elif topic in seen:
            problems.add(f"{where}.topic", f"{topic!r} is listed as silent twice")
        seen.add(str(topic))
        if "note" in item:
            _text(item["note"], f"{where}.note", problems)
        _verified(item, where, problems)


def _check_ids(data: dict[str, Any], code: str, problems: _Problems) -> None:
    """Ids are unique across statutes and rules, and start with the state's code."""
    seen: dict[str, str] = {}
    for key in ("statutes", "rules"):
        items = data.get(key)
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict) or "id" not in item:
                continue
            where, value = f"{key}[{i}].id", item["id"]
            if not isinstance(value, str) or not _ID.match(value):
                problems.add(where, f"{value!r} must be <state>-<short name>: lower case letters, "
                             "digits and hyphens")
            elif code and not value.startswith(f"{code}-"):
                problems.add(where, f"{value!r} must start with {code + '-'!r}")
            if value in seen:
                problems.add(where, f"duplicate id {value!r} (first used at {seen[value]})")
            else:
                seen[str(value)] = where


def _check_coverage(rules: list[Any], silent: list[Any], problems: _Problems) -> None:
    """Every topic is covered by a rule or a silent entry, and never by both."""
    ruled = {r.get("topic") for r in rules if isinstance(r, dict)}
    quiet = {s.get("topic") for s in silent if isinstance(s, dict)}
    for topic in TOPICS:
        if topic not in ruled and topic not in quiet:
            problems.add("rules, silent", f"topic {topic!r} is covered by neither a rule nor a "
                         "silent entry")
    for i, item in enumerate(silent):
        if isinstance(item, dict) and item.get("topic") in ruled:
            problems.add(f"silent[{i}].topic", f"{item['topic']!r} also has rules; a topic is "
                         "either covered by rules or silent")


def _check_currency(data: dict[str, Any], problems: _Problems) -> str:
    """`current_as_of` is YYYY-MM and not earlier than the newest `verified` date in the file."""
    value = data.get("current_as_of")
    if not isinstance(value, str) or not _MONTH.match(value) or not 1 <= int(value[5:]) <= 12:
        problems.add("current_as_of", f"must be a month YYYY-MM, not {value!r}")
        return ""
    newest = ""
    for key in ("statutes", "rules", "silent"):
        items = data.get(key)
        for item in items if isinstance(items, list) else []:
            day = item.get("verified") if isinstance(item, dict) else None
            if isinstance(day, dt.date) or (isinstance(day, str) and _MONTH.match(day[:7])):
                newest = max(newest, str(day)[:7])
    if newest > value:
        problems.add("current_as_of", f"{value} is earlier than the newest verified date's month "
                     f"{newest}")
    return value


def _label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def load_state(path: Path) -> StateProfile:
    """Load and validate one state file, raising one ContentError that lists every problem."""
    path = Path(path)
    problems = _Problems(_label(path))
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ContentError(f"{problems.label}: not valid YAML: {exc}") from exc
    if not _keys(data, "(top level)", _TOP_REQUIRED, _TOP_KEYS, problems):
        problems.raise_if_any()
    code = data.get("state")
    if not isinstance(code, str) or not re.fullmatch(r"[A-Z]{2}", code):
        problems.add("state", f"must be a two-letter postal code in upper case, not {code!r}")
        code = ""
    elif path.stem != code.lower():
        problems.add("state", f"{code!r} does not match the file name {path.name!r}")
    for key in ("name", "summary"):
        if key in data:
            _text(data[key], key, problems)
    current = _check_currency(data, problems)
    _check_ids(data, code.lower(), problems)
    _check_statutes(data, problems)
    _check_rules(data, problems)
    _check_silent(data, problems)
    rules, silent = data.get("rules"), data.get("silent")
    _check_coverage(rules if isinstance(rules, list) else [],
                    silent if isinstance(silent, list) else [], problems)
    problems.raise_if_any()
    return _profile(data, current, path)


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _profile(data: dict[str, Any], current: str, path: Path) -> StateProfile:
    """Typed records from a file that has already passed every check."""
    statutes = tuple(
        Statute(s["id"], s["title"], s["citation"], tuple(s["binds"]), s["url"],
                _day(s["verified"]))
        for s in data["statutes"]
    )
    rules = tuple(
        StateRule(r["id"], r["topic"], tuple(r["applies_to"]), r["rule"], r["citation"],
                  r["url"], _day(r["verified"]), r["status"], r.get("deadline"), r.get("note"))
        for r in data["rules"] or []
    )
    silent = tuple(
        Silence(s["topic"], s["note"], _day(s["verified"])) for s in data.get("silent") or []
    )
    return StateProfile(data["state"], data["name"], current, data["summary"], statutes, rules,
                        silent, path)


def load_states(root: Path | None = None) -> dict[str, StateProfile]:
    """Load every `states/*.yaml` of the course, keyed by postal code.

    Every file is checked before anything is raised, so one run lists the problems of all of them.
    """
    folder = Path(root or find_course_root()) / STATES_DIR
    if not folder.is_dir():
        raise ContentError(f"{folder}: no {STATES_DIR}/ folder in the course")
    profiles: dict[str, StateProfile] = {}
    errors: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            profile = load_state(path)
        except ContentError as exc:
            errors.append(str(exc))
            continue
        profiles[profile.state] = profile
    if errors:
        raise ContentError("\n".join(errors))
    return profiles
