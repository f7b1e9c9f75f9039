"""The state student-privacy dataset: one YAML file per state in `states/`, loaded and checked.

The course adapts to a learner's state from these files, so an entry that is uncited, undated,
silently missing a topic, or sourced from an unofficial website would mislead a district leader.
Every file is checked against the format in `states/README.md`, and every problem is reported at
once, one line each, naming the file and the key path (`states/ny.yaml: rules[3].citation:
missing`), with the same `ContentError` module content raises, so authors see one kind of error
everywhere.

How far each rule was checked is part of the data (`checked`): against the official text, against
an official summary (the legislature's bill analysis, the state agency's guidance), or only in an
unofficial copy of the text (`copy_url` says where). A topic the course has not verified at all is
an `unverified` entry that says where to look, never a rule: an unverified rule is not stated.
Entries older than the review period are reported as due for re-verification (`due_for_review`),
and loading the dataset warns about them.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

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
# What each topic is called on a page and in an export, in plain words.
TOPIC_TITLES: dict[str, str] = {
    "contracts": "What a contract with a vendor must contain",
    "public_posting": "What the district must post publicly",
    "parent_rights": "Parents' rights beyond FERPA",
    "breach_notice": "Breach and incident notice",
    "biometrics": "Biometrics and facial recognition",
    "roles_training": "Required roles and training",
    "vendor_duties": "What vendors may not do, and must do",
}
PARTIES: tuple[str, ...] = ("district", "vendor", "state_agency")
STATUSES: tuple[str, ...] = ("settled", "unsettled")
# How far a rule was checked, strongest first.
CHECKS: tuple[str, ...] = ("official_text", "official_summary", "unofficial_copy")
STATES_DIR = "states"
FEDERAL_FILE = "federal-baseline.yaml"
# An entry whose `verified` date is older than this is due for re-verification.
REVIEW_PERIOD = dt.timedelta(days=365)

# Every state, the District of Columbia included, for a learner to pick hers from.
US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
}

# Official sources: any government site (.gov), and the few official sites that are not on .gov
# (a state agency or legislature on an older domain, a state's official code publisher).
OFFICIAL_HOSTS: dict[str, tuple[str, ...]] = {
    "CO": ("cde.state.co.us",),
    "GA": ("gadoe.org", "advance.lexis.com"),
    "NC": ("ncga.state.nc.us", "ncleg.net"),
    "PA": ("legis.state.pa.us", "palegis.us"),
    "UT": ("usbe.instructure.com",),
}

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_ID = re.compile(r"^[a-z]{2}-[a-z0-9]+(-[a-z0-9]+)*$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_URL = re.compile(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$")
_ANY_URL = re.compile(r"^https?://[^\s/]+\.[^\s/]+(/\S*)?$")
_STATE_FILE = re.compile(r"^[a-z]{2}\.yaml$")

_TOP_KEYS = {"state", "name", "current_as_of", "summary", "statutes", "rules", "silent",
             "unverified"}
_TOP_REQUIRED = _TOP_KEYS - {"silent", "unverified"}
_STATUTE_REQUIRED = {"id", "title", "citation", "binds", "url", "verified"}
_STATUTE_KEYS = _STATUTE_REQUIRED | {"note"}
_RULE_REQUIRED = {"id", "topic", "applies_to", "rule", "citation", "url", "verified", "status",
                  "checked"}
_RULE_KEYS = _RULE_REQUIRED | {"deadline", "note", "copy_url"}
_SILENT_KEYS = {"topic", "note", "verified"}
_SILENT_REQUIRED = _SILENT_KEYS
_UNVERIFIED_KEYS = {"topic", "note", "url"}


class StaleEntryWarning(UserWarning):
    """An entry of the state dataset was verified longer ago than the review period allows."""


@dataclass(frozen=True)
class Statute:
    """One of the state's main student-privacy laws, and whom it binds."""

    id: str
    title: str
    citation: str
    binds: tuple[str, ...]
    url: str
    verified: dt.date
    note: str | None = None


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
    checked: str
    deadline: str | None = None
    note: str | None = None
    copy_url: str | None = None

    @property
    def settled(self) -> bool:
        return self.status == "settled"

    @property
    def official(self) -> bool:
        """Was the rule read in the official text or an official summary (not only a copy)?"""
        return self.checked != "unofficial_copy"


@dataclass(frozen=True)
class Silence:
    """A topic on which the state has no rule of its own: searched in the official code."""

    topic: str
    note: str
    verified: dt.date


@dataclass(frozen=True)
class Unverified:
    """A topic (or part of one) the course has not verified: what to check, and where."""

    topic: str
    note: str
    url: str


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
    unverified: tuple[Unverified, ...] = ()
    path: Path | None = field(default=None, compare=False)

    def rules_for(self, topic: str) -> tuple[StateRule, ...]:
        """The state's rules on one topic (empty when the state is silent on it)."""
        _check_topic(topic)
        return tuple(r for r in self.rules if r.topic == topic)

    def silence_on(self, topic: str) -> Silence | None:
        """The `silent` entry for a topic, if the state has no rule of its own on it."""
        _check_topic(topic)
        return next((s for s in self.silent if s.topic == topic), None)

    def unverified_on(self, topic: str) -> Unverified | None:
        """The `unverified` entry for a topic, if the course has not verified (all of) it."""
        _check_topic(topic)
        return next((u for u in self.unverified if u.topic == topic), None)


@dataclass(frozen=True)
class DueEntry:
    """An entry whose verification is older than the review period."""

    state: str
    where: str  # key path in the state's file, e.g. "rules[3]"
    label: str  # the entry's id, or its topic for a silent entry
    verified: dt.date
    due: dt.date
    path: Path | None = None

    def describe(self) -> str:
        file = f"{STATES_DIR}/{self.state.lower()}.yaml"
        return (f"{file}: {self.where} ({self.label}) was verified {self.verified.isoformat()}; "
                f"re-verification was due {self.due.isoformat()}")


def state_code(text: str | None) -> str:
    """A state's postal code in upper case ("" for none); anything else is a ValueError that
    says what is expected."""
    code = (text or "").strip().upper()
    if code and code not in US_STATES:
        raise ValueError(f"{text!r} is not the two-letter postal code of a state or DC "
                         "(for example NY)")
    return code


def _check_topic(topic: str) -> None:
    if topic not in TOPICS:
        raise KeyError(f"unknown topic {topic!r}; topics are {', '.join(TOPICS)}")


def is_official(url: str, state: str) -> bool:
    """Is `url` on a government site, or one of the state's official non-.gov sites?"""
    host = (urlparse(url).hostname or "").lower()
    allowed = OFFICIAL_HOSTS.get(state, ())
    return host.endswith(".gov") or any(host == h or host.endswith("." + h) for h in allowed)


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


def _url(value: Any, where: str, state: str, problems: _Problems) -> None:
    """An https:// address on an official site of the state (or any .gov site)."""
    if not isinstance(value, str) or not _URL.match(value):
        problems.add(where, f"must be an https:// address, not {value!r}")
    elif state and not is_official(value, state):
        problems.add(where, f"{value!r} is not an official source (a .gov site or one of "
                     f"{', '.join(OFFICIAL_HOSTS.get(state, ())) or 'none'}); put the official "
                     "address here and an unofficial copy you read in copy_url")


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


def _check_statutes(data: dict[str, Any], state: str, problems: _Problems) -> None:
    items = _list(data, "statutes", problems)
    if "statutes" in data and not items:
        problems.add("statutes", "must list at least one statute")
    for i, item in enumerate(items):
        where = f"statutes[{i}]"
        if not _keys(item, where, _STATUTE_REQUIRED, _STATUTE_KEYS, problems):
            continue
        _check_cited(item, where, ("title", "citation", "note"), "binds", state, problems)


def _check_rules(data: dict[str, Any], state: str, problems: _Problems) -> None:
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
        _check_checked(item, where, problems)
        _check_cited(item, where, ("rule", "citation", "deadline", "note"), "applies_to", state,
                     problems)


def _check_checked(item: dict[str, Any], where: str, problems: _Problems) -> None:
    """`checked` names how far the rule was read; a copy must say where it was read."""
    if "checked" not in item:
        return
    checked = item["checked"]
    if checked not in CHECKS:
        problems.add(f"{where}.checked", f"{checked!r} is not one of {', '.join(CHECKS)}")
    elif checked == "unofficial_copy" and "copy_url" not in item:
        problems.add(f"{where}.copy_url", "missing: a rule read only in an unofficial copy must "
                     "say where that copy is")
    elif checked != "unofficial_copy" and "copy_url" in item:
        problems.add(f"{where}.copy_url", f"only for rules checked as unofficial_copy, not "
                     f"{checked!r}")
    if "copy_url" in item and (not isinstance(item["copy_url"], str)
                               or not _ANY_URL.match(item["copy_url"])):
        problems.add(f"{where}.copy_url", f"must be a web address, not {item['copy_url']!r}")


def _check_cited(item: dict[str, Any], where: str, texts: tuple[str, ...], parties: str,
                 state: str, problems: _Problems) -> None:
    """What a statute and a rule share: plain texts, the official URL, whom it binds, and
    when it was verified."""
    for key in texts:
        if key in item:
            _text(item[key], f"{where}.{key}", problems)
    if "url" in item:
        _url(item["url"], f"{where}.url", state, problems)
    if parties in item:
        _parties(item[parties], f"{where}.{parties}", problems)
    _verified(item, where, problems)


def _check_topic_list(data: dict[str, Any], key: str, required: set[str], allowed: set[str],
                      state: str, problems: _Problems) -> None:
    """`silent` and `unverified`: one entry per topic, each with its note (and its date or
    the official place to look)."""
    seen: set[str] = set()
    for i, item in enumerate(_list(data, key, problems)):
        where = f"{key}[{i}]"
        if not _keys(item, where, required, allowed, problems):
            continue
        topic = item.get("topic")
        if "topic" in item and topic not in TOPICS:
            problems.add(f"{where}.topic", f"{topic!r} is not one of {', '.join(TOPICS)}")
        elif topic in seen:
            problems.add(f"{where}.topic", f"{topic!r} is listed in {key} twice")
        seen.add(str(topic))
        if "note" in item:
            _text(item["note"], f"{where}.note", problems)
        if "url" in item:
            _url(item["url"], f"{where}.url", state, problems)
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


def _topics_of(items: Any) -> set[Any]:
    return {i.get("topic") for i in items if isinstance(i, dict)} if isinstance(items, list) \
        else set()


def _check_coverage(data: dict[str, Any], problems: _Problems) -> None:
    """Every topic is covered by rules, a silent entry or an unverified entry. A silent topic
    has neither rules nor an unverified part; rules may leave part of a topic unverified."""
    ruled, unverified = _topics_of(data.get("rules")), _topics_of(data.get("unverified"))
    found = data.get("silent")
    silent: list[Any] = found if isinstance(found, list) else []
    quiet = _topics_of(silent)
    for topic in TOPICS:
        if topic not in ruled | quiet | unverified:
            problems.add("rules, silent, unverified", f"topic {topic!r} is covered by none of "
                         "them")
    for i, item in enumerate(silent):
        if not isinstance(item, dict):
            continue
        if item.get("topic") in ruled:
            problems.add(f"silent[{i}].topic", f"{item['topic']!r} also has rules; a topic is "
                         "either covered by rules or silent")
        elif item.get("topic") in unverified:
            problems.add(f"silent[{i}].topic", f"{item['topic']!r} is also unverified; a topic "
                         "the course has not verified cannot be called silent")


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
    elif code not in US_STATES:
        problems.add("state", f"{code!r} is not the postal code of a state or DC")
    for key in ("name", "summary"):
        if key in data:
            _text(data[key], key, problems)
    current = _check_currency(data, problems)
    _check_ids(data, code.lower(), problems)
    _check_statutes(data, code, problems)
    _check_rules(data, code, problems)
    _check_topic_list(data, "silent", _SILENT_REQUIRED, _SILENT_KEYS, code, problems)
    _check_topic_list(data, "unverified", _UNVERIFIED_KEYS, _UNVERIFIED_KEYS, code, problems)
    _check_coverage(data, problems)
    problems.raise_if_any()
    return _profile(data, current, path)


def _day(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _profile(data: dict[str, Any], current: str, path: Path) -> StateProfile:
    """Typed records from a file that has already passed every check."""
    statutes = tuple(
        Statute(s["id"], s["title"], s["citation"], tuple(s["binds"]), s["url"],
                _day(s["verified"]), s.get("note"))
        for s in data["statutes"]
    )
    rules = tuple(
        StateRule(r["id"], r["topic"], tuple(r["applies_to"]), r["rule"], r["citation"],
                  r["url"], _day(r["verified"]), r["status"], r["checked"], r.get("deadline"),
                  r.get("note"), r.get("copy_url"))
        for r in data["rules"] or []
    )
    silent = tuple(
        Silence(s["topic"], s["note"], _day(s["verified"])) for s in data.get("silent") or []
    )
    unverified = tuple(
        Unverified(u["topic"], u["note"], u["url"]) for u in data.get("unverified") or []
    )
    return StateProfile(data["state"], data["name"], current, data["summary"], statutes, rules,
                        silent, unverified, path)


def states_folder(root: Path | None = None) -> Path:
    """The course's `states/` folder (the course root is found as every command finds it)."""
    return Path(root or find_course_root()) / STATES_DIR


def load_states(root: Path | None = None, today: dt.date | None = None,
                period: dt.timedelta = REVIEW_PERIOD) -> dict[str, StateProfile]:
    """Load every `states/<xx>.yaml` of the course, keyed by postal code.

    Every file is checked before anything is raised, so one run lists the problems of all of
    them. An entry older than the review period gives a `StaleEntryWarning` naming it.
    """
    folder = states_folder(root)
    if not folder.is_dir():
        raise ContentError(f"{folder}: no {STATES_DIR}/ folder in the course")
    profiles: dict[str, StateProfile] = {}
    errors: list[str] = []
    for path in sorted(p for p in folder.glob("*.yaml") if _STATE_FILE.match(p.name)):
        try:
            profile = load_state(path)
        except ContentError as exc:
            errors.append(str(exc))
            continue
        profiles[profile.state] = profile
    if errors:
        raise ContentError("\n".join(errors))
    for entry in due_for_review(profiles, today, period):
        warnings.warn(entry.describe(), StaleEntryWarning, stacklevel=2)
    return profiles


def due_for_review(profiles: dict[str, StateProfile], today: dt.date | None = None,
                   period: dt.timedelta = REVIEW_PERIOD) -> list[DueEntry]:
    """Every statute, rule and silent entry whose verification is older than `period` on
    `today`, oldest first. (An unverified entry has nothing to re-verify: it is always open.)"""
    today = today or dt.date.today()
    due: list[DueEntry] = []
    for code, profile in sorted(profiles.items()):
        dated: list[tuple[str, str, dt.date]] = [
            *((f"statutes[{i}]", s.id, s.verified) for i, s in enumerate(profile.statutes)),
            *((f"rules[{i}]", r.id, r.verified) for i, r in enumerate(profile.rules)),
            *((f"silent[{i}]", s.topic, s.verified) for i, s in enumerate(profile.silent)),
        ]
        for where, label, verified in dated:
            if today - verified > period:
                due.append(DueEntry(code, where, label, verified, verified + period,
                                    profile.path))
    return sorted(due, key=lambda e: (e.verified, e.state, e.where))
