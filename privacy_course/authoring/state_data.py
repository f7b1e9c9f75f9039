"""The state dataset as one open document: the JSON and CSV exports, their schema, and reading
them back.

Authors edit `states/*.yaml`; everyone else (other tools, researchers, the module pages) reads one
of these exports. The JSON holds everything, the federal baseline included; the CSV holds the same
records as flat rows, one per statute, rule, silent or unverified entry, for a spreadsheet. Both
read back into the same typed records (`dataset_from_json`, `dataset_from_csv`), which is what the
round-trip tests prove. The output is deterministic (no time stamps), so committed exports and the
copy each built module ships in `.content/states.json` can be compared byte for byte with a fresh
export.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from privacy_course.authoring.content import ContentError
from privacy_course.authoring.states import (
    CHECKS,
    FEDERAL_FILE,
    PARTIES,
    STATUSES,
    TOPIC_TITLES,
    TOPICS,
    Silence,
    StateProfile,
    StateRule,
    Statute,
    Unverified,
    load_states,
    states_folder,
)

DATASET_TITLE = "K-12 state student-privacy rules for district leaders"
LICENSE = "CC-BY-4.0"
LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"
NOTICE = ("Not legal advice. Each entry is only as current as its verified date; read the cited "
          "official text, and ask your counsel, before acting on it.")
EXPORT_DIR = "export"
JSON_NAME = "state-rules.json"
CSV_NAME = "state-rules.csv"
SCHEMA_NAME = "state-rules.schema.json"
# The copy every built module ships in its hidden content folder, for its "Your state" section.
MODULE_COPY = "states.json"
FEDERAL = "US"

CSV_COLUMNS = ("state", "kind", "id", "topic", "applies_to", "text", "citation", "deadline",
               "url", "copy_url", "verified", "status", "checked", "note", "name",
               "current_as_of")
KINDS = ("state", "statute", "rule", "silent", "unverified", "federal", "federal_source")


@dataclass(frozen=True)
class Source:
    """A primary source of a federal baseline statement."""

    citation: str
    url: str


@dataclass(frozen=True)
class FederalTopic:
    """What federal law says on one topic, for every district."""

    topic: str
    summary: str
    sources: tuple[Source, ...]


@dataclass(frozen=True)
class Dataset:
    """The whole dataset: every covered state and the federal baseline."""

    states: dict[str, StateProfile]
    federal: dict[str, FederalTopic]
    federal_current_as_of: str

    @property
    def version(self) -> str:
        """The dataset's version: the newest month any part of it was reviewed."""
        months = [p.current_as_of for p in self.states.values()] + [self.federal_current_as_of]
        return max(months)


# -- the federal baseline ------------------------------------------------------------------------
def load_federal(root: Path | None = None) -> tuple[str, dict[str, FederalTopic]]:
    """`states/federal-baseline.yaml`: (current_as_of, {topic: FederalTopic}), every topic
    present, every statement sourced. A problem is raised naming the file and the key path."""
    path = states_folder(root) / FEDERAL_FILE
    label = f"{path.parent.name}/{path.name}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"{label}: cannot be read: {exc}") from exc
    problems: list[str] = []
    if not isinstance(data, dict):
        raise ContentError(f"{label}: must be a mapping with current_as_of and topics")
    current = str(data.get("current_as_of", ""))
    if len(current) != 7 or current[4] != "-":
        problems.append(f"{label}: current_as_of: must be a month YYYY-MM, not {current!r}")
    found = data.get("topics")
    topics: dict[str, Any] = found if isinstance(found, dict) else {}
    federal: dict[str, FederalTopic] = {}
    for topic in TOPICS:
        item = topics.get(topic)
        where = f"{label}: topics.{topic}"
        if not isinstance(item, dict) or not str(item.get("summary", "")).strip():
            problems.append(f"{where}.summary: missing")
            continue
        listed = item.get("sources")
        sources: list[Any] = listed if isinstance(listed, list) else []
        if not sources:
            problems.append(f"{where}.sources: must list at least one primary source")
        parsed = []
        for i, source in enumerate(sources):
            if not isinstance(source, dict) or not source.get("citation") \
                    or not str(source.get("url", "")).startswith("https://"):
                problems.append(f"{where}.sources[{i}]: needs a citation and an https:// url")
                continue
            parsed.append(Source(str(source["citation"]), str(source["url"])))
        federal[topic] = FederalTopic(topic, " ".join(str(item["summary"]).split()),
                                      tuple(parsed))
    for extra in sorted(set(topics) - set(TOPICS)):
        problems.append(f"{label}: topics.{extra}: unknown topic; topics are {', '.join(TOPICS)}")
    if problems:
        raise ContentError(f"{label} is invalid:\n  " + "\n  ".join(problems))
    return current, federal


def load_dataset(root: Path | None = None) -> Dataset:
    """Every state file and the federal baseline of the course, validated."""
    current, federal = load_federal(root)
    return Dataset(load_states(root), federal, current)


# -- JSON ------------------------------------------------------------------------------------------
def _day(value: dt.date) -> str:
    return value.isoformat()


def _state_json(p: StateProfile) -> dict[str, Any]:
    return {
        "state": p.state,
        "name": p.name,
        "current_as_of": p.current_as_of,
        "summary": " ".join(p.summary.split()),
        "statutes": [{"id": s.id, "title": s.title, "citation": s.citation,
                      "binds": list(s.binds), "url": s.url, "verified": _day(s.verified),
                      "note": s.note} for s in p.statutes],
        "rules": [{"id": r.id, "topic": r.topic, "applies_to": list(r.applies_to),
                   "rule": r.rule, "deadline": r.deadline, "citation": r.citation, "url": r.url,
                   "verified": _day(r.verified), "status": r.status, "checked": r.checked,
                   "copy_url": r.copy_url, "note": r.note} for r in p.rules],
        "silent": [{"topic": s.topic, "note": s.note, "verified": _day(s.verified)}
                   for s in p.silent],
        "unverified": [{"topic": u.topic, "note": u.note, "url": u.url} for u in p.unverified],
    }


def dataset_to_json(ds: Dataset) -> dict[str, Any]:
    """The whole dataset as one JSON document (see `json_schema`)."""
    return {
        "dataset": DATASET_TITLE,
        "version": ds.version,
        "license": LICENSE,
        "license_url": LICENSE_URL,
        "notice": NOTICE,
        "topics": dict(TOPIC_TITLES),
        "federal_baseline": {
            "current_as_of": ds.federal_current_as_of,
            "topics": {t: {"summary": f.summary,
                           "sources": [{"citation": s.citation, "url": s.url}
                                       for s in f.sources]}
                       for t, f in ds.federal.items()},
        },
        "states": [_state_json(p) for _, p in sorted(ds.states.items())],
    }


def json_text(ds: Dataset) -> str:
    return json.dumps(dataset_to_json(ds), indent=1, ensure_ascii=False) + "\n"


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def dataset_from_json(data: dict[str, Any]) -> Dataset:
    """Typed records from an exported JSON document (which `json_schema` describes)."""
    states: dict[str, StateProfile] = {}
    for s in data["states"]:
        states[s["state"]] = StateProfile(
            s["state"], s["name"], s["current_as_of"], s["summary"],
            tuple(Statute(x["id"], x["title"], x["citation"], tuple(x["binds"]), x["url"],
                          _date(x["verified"]), x.get("note")) for x in s["statutes"]),
            tuple(StateRule(x["id"], x["topic"], tuple(x["applies_to"]), x["rule"],
                            x["citation"], x["url"], _date(x["verified"]), x["status"],
                            x["checked"], x.get("deadline"), x.get("note"), x.get("copy_url"))
                  for x in s["rules"]),
            tuple(Silence(x["topic"], x["note"], _date(x["verified"])) for x in s["silent"]),
            tuple(Unverified(x["topic"], x["note"], x["url"]) for x in s["unverified"]),
        )
    baseline = data["federal_baseline"]
    federal = {t: FederalTopic(t, f["summary"], tuple(Source(s["citation"], s["url"])
                                                     for s in f["sources"]))
               for t, f in baseline["topics"].items()}
    return Dataset(states, federal, baseline["current_as_of"])


def read_json(path: Path) -> Dataset:
    return dataset_from_json(json.loads(Path(path).read_text(encoding="utf-8")))


# -- CSV -------------------------------------------------------------------------------------------
def _row(**fields: Any) -> dict[str, str]:
    row = {c: "" for c in CSV_COLUMNS}
    for key, value in fields.items():
        if value is None:
            continue
        if isinstance(value, tuple | list):
            value = ";".join(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        row[key] = " ".join(str(value).split())
    return row


def csv_rows(ds: Dataset) -> list[dict[str, str]]:
    """One row per record: a state's summary, its statutes, rules, silent and unverified
    entries, then the federal baseline (one row per topic and one per source)."""
    rows: list[dict[str, str]] = []
    for code, p in sorted(ds.states.items()):
        rows.append(_row(state=code, kind="state", text=p.summary, name=p.name,
                         current_as_of=p.current_as_of))
        rows += [_row(state=code, kind="statute", id=s.id, applies_to=s.binds, text=s.title,
                      citation=s.citation, url=s.url, verified=s.verified, note=s.note)
                 for s in p.statutes]
        rows += [_row(state=code, kind="rule", id=r.id, topic=r.topic, applies_to=r.applies_to,
                      text=r.rule, citation=r.citation, deadline=r.deadline, url=r.url,
                      copy_url=r.copy_url, verified=r.verified, status=r.status,
                      checked=r.checked, note=r.note) for r in p.rules]
        rows += [_row(state=code, kind="silent", topic=s.topic, note=s.note, verified=s.verified)
                 for s in p.silent]
        rows += [_row(state=code, kind="unverified", topic=u.topic, note=u.note, url=u.url)
                 for u in p.unverified]
    for topic, f in ds.federal.items():
        rows.append(_row(state=FEDERAL, kind="federal", topic=topic, text=f.summary,
                         current_as_of=ds.federal_current_as_of))
        rows += [_row(state=FEDERAL, kind="federal_source", topic=topic, citation=s.citation,
                      url=s.url) for s in f.sources]
    return rows


def csv_text(ds: Dataset) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(ds))
    return out.getvalue()


def _opt(text: str) -> str | None:
    return text or None


def dataset_from_csv(text: str) -> Dataset:
    """Typed records from an exported CSV; an unknown kind or column names the row at fault."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise ContentError(f"CSV columns must be {', '.join(CSV_COLUMNS)}; found "
                           f"{', '.join(reader.fieldnames or ())}")
    parts: dict[str, dict[str, Any]] = {}
    federal: dict[str, dict[str, Any]] = {}
    current = ""
    for number, row in enumerate(reader, start=2):
        kind, code = row["kind"], row["state"]
        if kind not in KINDS:
            raise ContentError(f"CSV line {number}: kind {kind!r} is not one of "
                               f"{', '.join(KINDS)}")
        if kind in ("federal", "federal_source"):
            item = federal.setdefault(row["topic"], {"summary": "", "sources": []})
            if kind == "federal":
                item["summary"], current = row["text"], row["current_as_of"]
            else:
                item["sources"].append(Source(row["citation"], row["url"]))
            continue
        state = parts.setdefault(code, {"statutes": [], "rules": [], "silent": [],
                                        "unverified": []})
        parties = tuple(p for p in row["applies_to"].split(";") if p)
        if kind == "state":
            state.update(name=row["name"], current_as_of=row["current_as_of"],
                         summary=row["text"])
        elif kind == "statute":
            state["statutes"].append(Statute(row["id"], row["text"], row["citation"], parties,
                                             row["url"], _date(row["verified"]),
                                             _opt(row["note"])))
        elif kind == "rule":
            state["rules"].append(StateRule(
                row["id"], row["topic"], parties, row["text"], row["citation"], row["url"],
                _date(row["verified"]), row["status"], row["checked"], _opt(row["deadline"]),
                _opt(row["note"]), _opt(row["copy_url"])))
        elif kind == "silent":
            state["silent"].append(Silence(row["topic"], row["note"], _date(row["verified"])))
        else:
            state["unverified"].append(Unverified(row["topic"], row["note"], row["url"]))
    states = {code: StateProfile(code, s["name"], s["current_as_of"], s["summary"],
                                 tuple(s["statutes"]), tuple(s["rules"]), tuple(s["silent"]),
                                 tuple(s["unverified"]))
              for code, s in parts.items()}
    return Dataset(states, {t: FederalTopic(t, f["summary"], tuple(f["sources"]))
                            for t, f in federal.items()}, current)


# -- the schema ------------------------------------------------------------------------------------
def json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the JSON export, for anyone who reuses the data."""
    text = {"type": "string", "minLength": 1}
    optional = {"type": ["string", "null"]}
    day = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
    month = {"type": "string", "pattern": r"^\d{4}-\d{2}$"}
    topic = {"enum": list(TOPICS)}
    parties = {"type": "array", "items": {"enum": list(PARTIES)}, "minItems": 1,
               "uniqueItems": True}
    url = {"type": "string", "pattern": "^https://"}

    def record(properties: dict[str, Any]) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": False,
                "required": list(properties), "properties": properties}

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": DATASET_TITLE,
        "description": NOTICE,
        **record({
            "dataset": text, "version": month, "license": {"const": LICENSE},
            "license_url": url, "notice": text,
            "topics": record({t: text for t in TOPICS}),
            "federal_baseline": record({
                "current_as_of": month,
                "topics": record({t: record({
                    "summary": text,
                    "sources": {"type": "array", "minItems": 1,
                                "items": record({"citation": text, "url": url})},
                }) for t in TOPICS}),
            }),
            "states": {"type": "array", "items": record({
                "state": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "name": text, "current_as_of": month, "summary": text,
                "statutes": {"type": "array", "minItems": 1, "items": record({
                    "id": text, "title": text, "citation": text, "binds": parties,
                    "url": url, "verified": day, "note": optional})},
                "rules": {"type": "array", "items": record({
                    "id": text, "topic": topic, "applies_to": parties, "rule": text,
                    "deadline": optional, "citation": text, "url": url, "verified": day,
                    "status": {"enum": list(STATUSES)}, "checked": {"enum": list(CHECKS)},
                    "copy_url": optional, "note": optional})},
                "silent": {"type": "array", "items": record({
                    "topic": topic, "note": text, "verified": day})},
                "unverified": {"type": "array", "items": record({
                    "topic": topic, "note": text, "url": url})},
            })},
        }),
    }


# -- files -----------------------------------------------------------------------------------------
def export_texts(ds: Dataset) -> dict[str, str]:
    """{file name: text} of the three export files."""
    return {JSON_NAME: json_text(ds), CSV_NAME: csv_text(ds),
            SCHEMA_NAME: json.dumps(json_schema(), indent=1) + "\n"}


def write_exports(root: Path | None = None, out: Path | None = None) -> list[Path]:
    """Write the JSON, CSV and schema into `out` (default: `states/export/`)."""
    folder = Path(out) if out else states_folder(root) / EXPORT_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in export_texts(load_dataset(root)).items():
        (folder / name).write_text(text, encoding="utf-8")
        written.append(folder / name)
    return written


def stale_exports(root: Path | None = None) -> list[str]:
    """The committed export files that differ from a fresh export (empty when up to date)."""
    folder = states_folder(root) / EXPORT_DIR
    stale = []
    for name, text in export_texts(load_dataset(root)).items():
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(f"{path.parent.parent.name}/{EXPORT_DIR}/{name}")
    return stale


def write_module_copy(root: Path, content_dir: Path) -> Path | None:
    """Ship the JSON export in a built module's content folder (nothing when the course has no
    `states/` folder), so the module's "Your state" section works wherever the release goes."""
    if not states_folder(root).is_dir():
        return None
    path = Path(content_dir) / MODULE_COPY
    path.write_text(json_text(load_dataset(root)), encoding="utf-8")
    return path
