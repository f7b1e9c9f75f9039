"""`privacy-course states`: the state dataset in a terminal (list, show one state, export, and the
entries due for re-verification).

Maintainers run `states due` on a schedule (and CI can, since it exits non-zero when something
is due): a rule checked a year ago may have been amended since, and the course says "current as
of" only as long as someone looks again.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import textwrap
from pathlib import Path
from typing import TextIO

from privacy_course.authoring.content import ContentError
from privacy_course.authoring.state_data import (
    Dataset,
    csv_text,
    json_schema,
    json_text,
    load_dataset,
    write_exports,
)
from privacy_course.authoring.states import (
    CHECKS,
    REVIEW_PERIOD,
    TOPIC_TITLES,
    TOPICS,
    due_for_review,
)

CHECK_LABELS = {"official_text": "official text", "official_summary": "official summary",
                "unofficial_copy": "unofficial copy only"}
FORMATS = ("json", "csv", "schema")


def list_text(ds: Dataset) -> str:
    """One line per covered state: how many rules, how far they were checked, what is open."""
    lines = [f"{'state':<6}{'name':<16}{'as of':<9}{'rules':>6}  "
             + "  ".join(CHECK_LABELS[c] for c in CHECKS) + "  unverified topics"]
    for code, p in sorted(ds.states.items()):
        counts = "  ".join(f"{sum(1 for r in p.rules if r.checked == c):>{len(CHECK_LABELS[c])}}"
                           for c in CHECKS)
        lines.append(f"{code:<6}{p.name:<16}{p.current_as_of:<9}{len(p.rules):>6}  {counts}"
                     f"  {', '.join(u.topic for u in p.unverified) or '-'}")
    lines.append(f"{len(ds.states)} states; dataset version {ds.version}. Not legal advice.")
    return "\n".join(lines) + "\n"


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=96, initial_indent=indent,
                         subsequent_indent=indent)


def _item(text: str) -> str:
    """A bulleted paragraph: "  - " on its first line, aligned under it after."""
    return textwrap.fill(" ".join(text.split()), width=96, initial_indent="  - ",
                         subsequent_indent="    ")


def show_text(ds: Dataset, state: str) -> str:
    """Everything the dataset holds for one state, topic by topic, with sources."""
    code = state.upper()
    if code not in ds.states:
        raise ContentError(f"the dataset has no state {state!r}; states: "
                           f"{', '.join(sorted(ds.states))}")
    p = ds.states[code]
    out = [f"{p.name} ({code}), current as of {p.current_as_of}. Not legal advice.",
           _wrap(p.summary, "  "), "", "Main statutes:"]
    out += [f"  - {s.citation}: {s.title} (binds {', '.join(s.binds)}; {s.url})"
            for s in p.statutes]
    for topic in TOPICS:
        out += ["", f"{TOPIC_TITLES[topic]} [{topic}]"]
        for r in p.rules_for(topic):
            out.append(_item(r.rule))
            if r.deadline:
                out.append(f"    deadline: {r.deadline}")
            out.append(f"    {r.citation} ({r.url}); {CHECK_LABELS[r.checked]}, "
                       f"{r.verified.isoformat()}; {r.status}"
                       + (f"; copy read: {r.copy_url}" if r.copy_url else ""))
        silence = p.silence_on(topic)
        if silence:
            out.append(_item(f"no rule of its own ({silence.verified.isoformat()}): "
                             f"{silence.note}"))
        gap = p.unverified_on(topic)
        if gap:
            out.append(_item(f"NOT VERIFIED: {gap.note} Where to look: {gap.url}"))
    return "\n".join(out) + "\n"


def due_text(ds: Dataset, on: dt.date | None = None,
             period: dt.timedelta = REVIEW_PERIOD) -> tuple[str, int]:
    """(text, how many entries are due) on a day: entries verified longer ago than `period`,
    and the topics still unverified (always open)."""
    on = on or dt.date.today()
    due = due_for_review(ds.states, on, period)
    lines = [f"Entries verified more than {period.days} days before {on.isoformat()}:"]
    lines += [f"  {entry.describe()}" for entry in due] or ["  none"]
    open_topics = [(code, u.topic) for code, p in sorted(ds.states.items())
                   for u in p.unverified]
    lines.append(f"Topics not verified yet ({len(open_topics)}): "
                 + (", ".join(f"{c}:{t}" for c, t in open_topics) or "none"))
    return "\n".join(lines) + "\n", len(due)


def export(ds: Dataset, fmt: str) -> str:
    """One export as text: the JSON document, the CSV, or the JSON schema."""
    if fmt == "json":
        return json_text(ds)
    if fmt == "csv":
        return csv_text(ds)
    if fmt == "schema":
        return json.dumps(json_schema(), indent=1) + "\n"
    raise ValueError(f"format {fmt!r} is not one of {', '.join(FORMATS)}")


def command(action: str, root: Path, state: str | None = None, fmt: str = "all",
            out: Path | None = None, on: dt.date | None = None, days: int | None = None,
            stdout: TextIO | None = None) -> int:
    """Run one `privacy-course states` action; the exit code is 1 when `due` finds entries."""
    stdout = stdout or sys.stdout
    if action == "export" and fmt == "all":
        for path in write_exports(root, out):
            print(f"wrote {path}", file=stdout)
        return 0
    ds = load_dataset(root)
    if action == "list":
        stdout.write(list_text(ds))
    elif action == "show":
        stdout.write(show_text(ds, state or ""))
    elif action == "export":
        text = export(ds, fmt)
        if out:
            Path(out).write_text(text, encoding="utf-8")
            print(f"wrote {out}", file=stdout)
        else:
            stdout.write(text)
    elif action == "due":
        period = dt.timedelta(days=days) if days is not None else REVIEW_PERIOD
        text, count = due_text(ds, on, period)
        stdout.write(text)
        return 1 if count else 0
    else:
        raise ValueError(f"unknown states action {action!r}")
    return 0
