"""The "Your state" section of a module page: her state's rules beside the federal baseline.

A district leader's next question after FERPA is "what does my state require?". Modules 3, 4, 5,
7 and 8 answer it for their topics from the course's state dataset (`states/`, shipped with every
built module as `.content/states.json`). The state comes from the learner's profile; if she has
not named one, the cohort's default (published by the facilitator beside each released module)
is used; if neither is known, the section asks with a labelled drop-down, saves her answer to her
profile and draws itself again. A state the dataset does not cover gets the federal baseline, a
plain note and where to look.

What is shown follows how far each entry was checked: a rule read in the official text or an
official summary is stated as a rule. A rule read only in an unofficial copy is not: the learner
sees its citation, that the course has not checked it in the official text, and the official
place to read it (the dataset keeps the copy's reading, flagged, for whoever verifies it next).
A topic the course has not verified is likewise shown only as "not verified yet" with the
official place to look. Nothing here is graded: graded answers stay federal or
state-neutral, so cohorts across states are comparable.

`state_rows(state, topics)` gives the same content as plain records, with citations and URLs,
for documents a learner keeps (a law matrix, a decision memo).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ipywidgets as w
import jinja2

from privacy_course.authoring.content import ContentError, content_folder
from privacy_course.authoring.state_data import MODULE_COPY, Dataset, load_dataset, read_json
from privacy_course.authoring.states import TOPIC_TITLES, TOPICS, US_STATES, state_code
from privacy_course.config import ConfigError, find_course_root
from privacy_course.learner.profile import load_profile, save_profile
from privacy_course.learner.responses import atomic_write_json

log = logging.getLogger(__name__)

# The cohort's default state, published beside a released module (like its due date) and so
# fetched with it into the learner's module folder: `<module>/.state.json`.
DEFAULT_STATE_FILE = ".state.json"
# The facilitator's record of a cohort's default state, so that later releases publish it too.
COHORT_STATE_FILE = "default-state.json"

CHECKED_WORDS = {
    "official_text": "checked in the official text",
    "official_summary": "checked in an official summary (not the law's own text)",
    "unofficial_copy": "read only in an unofficial copy, not yet in the official source",
}
PARTY_WORDS = {"district": "districts", "vendor": "vendors", "state_agency": "the state agency"}
WHERE_TO_LOOK = (
    ("your state education agency's student data privacy page", None),
    ("your state legislature's official code", None),
    ("Student Privacy Compass's table of state student-privacy laws",
     "https://studentprivacycompass.org/state-laws/"),
    ("your district's counsel", None),
)


# -- the cohort's default state ---------------------------------------------------------------
def write_default_state(released: Path, state: str | None) -> None:
    """Publish (or withdraw, with None) a cohort's default state beside a released module."""
    path = Path(released) / DEFAULT_STATE_FILE
    code = state_code(state)
    if not code:
        path.unlink(missing_ok=True)
        return
    atomic_write_json(path, {"state": code})
    path.chmod(0o644)


def read_default_state(module_folder: Path) -> str:
    """The cohort's default state for a module folder, or "" when none is readable."""
    try:
        data = json.loads((Path(module_folder) / DEFAULT_STATE_FILE).read_text(encoding="utf-8"))
        return state_code(str(data["state"]))
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def remember_default_state(cohort_folder: Path, state: str | None) -> str:
    """A cohort's default state: `state` when given (and kept for later releases), else the one
    kept from an earlier release, else ""."""
    path = Path(cohort_folder) / COHORT_STATE_FILE
    if state:
        code = state_code(state)
        atomic_write_json(path, {"state": code})
        return code
    try:
        return state_code(str(json.loads(path.read_text(encoding="utf-8"))["state"]))
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def current_state(module_folder: Path) -> tuple[str, str]:
    """(state, where it came from): the learner's profile wins, then the cohort's default.
    `where` is "profile", "cohort" or "" (no state known)."""
    chosen = load_profile(module_folder).state
    if chosen in US_STATES:
        return chosen, "profile"
    default = read_default_state(module_folder)
    return (default, "cohort") if default else ("", "")


# -- the dataset, as a module sees it -----------------------------------------------------------
_cache: dict[tuple[str, float], Dataset] = {}


def module_dataset(folder: Path | str | None = None) -> Dataset:
    """The dataset a module folder reads: its shipped `.content/states.json`, else (an authored
    module, or code outside a module) the course's own `states/` files."""
    folder = Path(folder or Path.cwd()).resolve()
    shipped = content_folder(folder) / MODULE_COPY
    if shipped.is_file():
        key = (str(shipped), shipped.stat().st_mtime)
        if key not in _cache:
            _cache.clear()
            _cache[key] = read_json(shipped)
        return _cache[key]
    return load_dataset(find_course_root(folder))


# -- rows, for pages and documents --------------------------------------------------------------
@dataclass(frozen=True)
class StateRow:
    """One line of a state's rules on a topic, or the federal baseline for an uncovered state.

    `kind` is "rule", "silent" (the state has no rule of its own), "unverified" (the course has
    not verified it: never to be presented as a rule) or "federal" (the baseline, for a state the
    dataset does not cover)."""

    state: str
    state_name: str
    topic: str
    topic_title: str
    kind: str
    text: str
    citation: str
    url: str
    deadline: str | None = None
    applies_to: tuple[str, ...] = ()
    status: str | None = None
    checked: str | None = None
    verified: dt.date | None = None
    note: str | None = None
    copy_url: str | None = None

    @property
    def checked_words(self) -> str:
        return CHECKED_WORDS.get(self.checked or "", "")


def state_rows(state: str, topics: Iterable[str] = TOPICS,
               folder: Path | str | None = None) -> list[StateRow]:
    """Her state's entries on `topics`, in topic order, each with its citation and URL.

    For a state the dataset does not cover (or no state), one "federal" row per topic: the
    baseline, with its primary source. Unknown topics raise a KeyError naming them."""
    topics = list(topics)
    unknown = [t for t in topics if t not in TOPICS]
    if unknown:
        raise KeyError(f"unknown topic(s) {', '.join(unknown)}; topics are {', '.join(TOPICS)}")
    return _rows(module_dataset(folder), state, topics)


def _rows(ds: Dataset, state: str, topics: list[str]) -> list[StateRow]:
    code = (state or "").upper()
    name = US_STATES.get(code, code)
    profile = ds.states.get(code)
    rows: list[StateRow] = []
    for topic in topics:
        title = TOPIC_TITLES[topic]
        if profile is None:
            fed = ds.federal[topic]
            rows.append(StateRow(code, name, topic, title, "federal", fed.summary,
                                 "; ".join(s.citation for s in fed.sources),
                                 fed.sources[0].url if fed.sources else ""))
            continue
        rows += [_rule_row(code, name, topic, title, r) for r in profile.rules_for(topic)]
        silence = profile.silence_on(topic)
        if silence is not None:
            rows.append(StateRow(code, name, topic, title, "silent", silence.note, "", "",
                                 verified=silence.verified))
        gap = profile.unverified_on(topic)
        if gap is not None:
            rows.append(StateRow(code, name, topic, title, "unverified", gap.note, "", gap.url))
    return rows


def _rule_row(code: str, name: str, topic: str, title: str, rule: Any) -> StateRow:
    """A rule as the learner meets it: stated if it was read in an official source; otherwise
    only pointed to, because an unofficial copy can be out of date or wrong (one state's copies
    predate an amendment that is reported to have changed them)."""
    if rule.official:
        return StateRow(code, name, topic, title, "rule", rule.rule, rule.citation, rule.url,
                        rule.deadline, rule.applies_to, rule.status, rule.checked,
                        rule.verified, rule.note, rule.copy_url)
    return StateRow(code, name, topic, title, "unverified",
                    f"{rule.citation} is reported to deal with this. The course has read it only "
                    "in an unofficial copy, so it does not say here what it requires: read the "
                    "official text before you act on it.", rule.citation, rule.url,
                    applies_to=rule.applies_to, checked=rule.checked)


def row_words(row: StateRow) -> str:
    """What one row says, in a document's words: unverified rows say they are not rules."""
    if row.kind == "unverified":
        return f"Not verified yet by the course. {row.text}"
    if row.kind == "silent":
        return f"No rule of its own: {row.text}"
    if row.kind == "federal":
        where = row.state_name or "this state"
        return f"Federal baseline (the course does not cover {where} yet): {row.text}"
    return row.text + (f" Deadline: {row.deadline}." if row.deadline else "")


def rows_as_markdown(rows: list[StateRow]) -> str:
    """The rows as a Markdown table (topic, what the state requires, source), for a document.
    Unverified rows say so in the table: they are not rules."""
    if not rows:
        return ""

    def cell(text: str) -> str:
        return " ".join(text.split()).replace("|", "\\|")

    lines = ["| Topic | What the law says | Source |", "|---|---|---|"]
    for row in rows:
        said = row_words(row)
        source = f"[{cell(row.citation or 'official source')}]({row.url})" if row.url else ""
        lines.append(f"| {cell(row.topic_title)} | {cell(said)} | {source} |")
    return "\n".join(lines) + "\n"


# -- the section on the page ---------------------------------------------------------------------
def _environment() -> jinja2.Environment:
    """The learner templates' one Jinja2 environment (learner/pages.py)."""
    from privacy_course.learner.pages import template_environment

    return template_environment()


def _long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _month(text: str) -> str:
    try:
        return dt.date.fromisoformat(f"{text}-01").strftime("%B %Y")
    except ValueError:
        return text


def render_section(module_folder: Path, topics: Iterable[str] = TOPICS,
                   dataset: Dataset | None = None) -> str:
    """The section's HTML for the state this module folder knows (profile, then cohort)."""
    topics = list(topics) or list(TOPICS)
    try:
        ds = dataset or module_dataset(module_folder)
    except (ContentError, ConfigError, OSError, ValueError, KeyError) as exc:
        log.warning("state dataset unreadable for %s: %s", module_folder, exc)
        return _environment().get_template("your_state.html.j2").render(unavailable=True)
    code, source = current_state(module_folder)
    profile = ds.states.get(code)
    sections = []
    for topic in topics:
        rows = _rows(ds, code, [topic]) if profile else []
        sections.append({
            "title": TOPIC_TITLES[topic],
            "federal": ds.federal[topic],
            "rules": [r for r in rows if r.kind == "rule"],
            "silent": [r for r in rows if r.kind == "silent"],
            "unverified": [r for r in rows if r.kind == "unverified"],
        })
    return _environment().get_template("your_state.html.j2").render(
        unavailable=False, code=code, name=US_STATES.get(code, ""), source=source,
        profile=profile, sections=sections, where_to_look=WHERE_TO_LOOK,
        current=_month(profile.current_as_of) if profile else _month(ds.version),
        parties=PARTY_WORDS, long_date=_long_date, covered=sorted(
            US_STATES[c] for c in ds.states))


class YourStateSection(w.VBox):
    """The section: a labelled drop-down to name (or change) her state, and the rules drawn for
    it. Choosing a state saves it to her profile and draws every "Your state" section of the
    page again."""

    PROMPT = "Choose your state"

    def __init__(self, module_folder: Path, topics: Iterable[str] = (),
                 peers: dict[str, Any] | None = None) -> None:
        super().__init__()
        from privacy_course.learner.widgets import STYLE

        self.add_class("pc-box")
        self.layout.width = "100%"
        self.folder = Path(module_folder)
        self.topics = [t for t in topics] or list(TOPICS)
        unknown = [t for t in self.topics if t not in TOPICS]
        if unknown:
            raise KeyError(f"unknown topic(s) {', '.join(unknown)}; topics are "
                           f"{', '.join(TOPICS)}")
        self.peers = peers if peers is not None else {}
        code, _ = current_state(self.folder)
        options = [(self.PROMPT, "")] + sorted(((n, c) for c, n in US_STATES.items()),
                                               key=lambda item: item[0])
        self.picker = w.Dropdown(options=options, value=code, description="Your state",
                                 style={"description_width": "initial"})
        self.picker.observe(self._chosen, names="value")
        self.body = w.HTML()
        self.body.add_class("pc-live")
        self.children = [w.HTML(STYLE), self.picker, self.body]
        self.refresh()

    def _chosen(self, change: dict[str, Any]) -> None:
        code = change.get("new") or ""
        if not code:
            return
        save_profile(self.folder.parent, state=code)
        for peer in [*self.peers.values(), self]:
            if isinstance(peer, YourStateSection):
                peer.refresh()

    def refresh(self) -> None:
        """Draw the section again for the state now known."""
        code, _ = current_state(self.folder)
        if self.picker.value != code:
            self.picker.unobserve(self._chosen, names="value")
            self.picker.value = code
            self.picker.observe(self._chosen, names="value")
        self.body.value = render_section(self.folder, self.topics)
