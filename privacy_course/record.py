"""What grading recorded about each submission: typed flags, and the cohort's grading record.

Grading writes, the read side (`status`, completion, reports, feedback) reads, and neither imports
the other: this small room is the contract between them.

A `Flag` is one thing a facilitator should know about a submission, identified by a stable code
(`time-limit`, `cell-edited`, `link`, ...) with the few facts that make it specific (which cell,
which file). Flags are recorded where they happen (the intake's copy, the integrity checks, the
sandboxed Execute preprocessor's hooks, the trusted re-scorer), stored as code and facts, and
read back as the same sentence from the one catalogue below. A flag is also a `str` whose value is
that sentence, so a table or a test can print and search it like any text, while anything that
decides (a blocking problem, a limit) looks at `code`, never at words.

The record of a cohort (`grading-issues.json` in its folder) holds, per module and learner, the
last grading's problem (or none), its flags, whether it was graded, the submission's timestamp,
how many times in a row it failed, and where its full log was kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privacy_course.learner.responses import atomic_write_json

TEXTS: dict[str, str] = {
    # the intake: what was refused when a submission was copied
    "folder-unreadable": "the folder {where} could not be read ({reason})",
    "odd-name": "the submission contained a file with an odd name ({where}); it was not taken",
    "link": "the submission contained a link ({where}); the link was not followed",
    "special-file": "the submission contained a special file ({where}: a device, pipe or "
                    "socket); it was not read",
    "too-many-files": "the submission holds more than {limit} files; the rest (from {where}) "
                      "were not taken",
    "file-unreadable": "the file {where} could not be read ({reason}); it was not taken",
    "hard-link": "the submission contained a hard link ({where}) to a file that may lie "
                 "outside it; it was not taken",
    "too-large": "the submission holds more than {limit} MB; {where} and what follows were "
                 "not taken",
    "impossible-name": "a handed-in folder named {name!r} names no possible learner; refused",
    "folder-vanished": "the submission folder of {learner} vanished while it was collected",
    "folder-is-link": "the submission of {learner} is a link, not a folder; it was not followed",
    "impostor": "a submission in {learner}'s name was handed in by the account {owner}; it was "
                "not collected",
    # the integrity checks: the handed-in folder against what the learner was given
    "wrong-file-name": "wrong file name: handed in {found} instead of {expected}",
    "no-notebook": "no notebook in the submission",
    "damaged-json": "the notebook file is damaged (not valid JSON)",
    "not-a-notebook": "the notebook file does not hold a notebook",
    "old-format": "notebook format {version}, not 4 (saved by an old or foreign tool)",
    "cell-deleted": "{kind} {grade_id} was deleted",
    "test-cell-deleted": "{kind} {grade_id} was deleted (it was put back and graded)",
    "cell-type-changed": "{kind} {grade_id} was changed from {before} to {after}",
    "cell-edited": "{kind} {grade_id} was edited",
    "no-answers-file": "no saved answers file was handed in",
    "answers-unusable": "saved answers unusable: {plain_problem}",
    "unknown-scenario": "the answers file claims an unknown scenario {scenario!r} was finished",
    "scenario-not-reached": "the answers file claims scenario {scenario!r} was finished, but no "
                            "recorded choice reaches its end",
    # the trusted re-scorer
    "forced-pass": "test cell {grade_id} was made to pass inside the notebook; it was scored "
                   "from the saved answers instead",
    # the sandbox's limits, seen by the Execute preprocessor's hooks
    "time-limit": "a cell ran longer than the time limit",
    "memory-limit": "a cell hit the memory limit",
    "file-size-limit": "a cell hit the file size limit",
    "process-limit": "a cell hit the process limit",
    "output-cut": "output was cut at the output limit",
    "write-quota": "a cell hit the write quota (the most a notebook may write in total while "
                   "it is graded)",
    # why grading failed
    "kernel-died": "the notebook's kernel crashed during grading",
    "bad-format": "the notebook is not in a format nbgrader can read",
    "worker-died": "the grading process died ({kind})",
    "grading-failed": "grading stopped with an error (the last line of its log: {detail})",
    "unknown-failure": "grading failed for an unknown reason",
    "interrupted": "its grading was stopped before it finished",
    # an entry written before flags had codes: its sentence as it was recorded
    "note": "{text}",
}

# What a facilitator does about each flag, in plain words: `status` and `grade` print it under
# the flag, and README's table of flags quotes these sentences (tests/test_status.py checks).
REDO = "Ask the learner to fetch the module again, redo it and resubmit."
RENAMED = ("Ask the learner to hand in the module's notebook under its original file name "
           "(fetching the module again gives it back), then resubmit.")
NOTHING_RESTORED = "Nothing: the grader put the original back and graded that."
NOTHING_UNLESS = "Nothing, unless it happens again: the original was used for grading."
RERUN = "Ask the learner to open the module again, check that the answers are there, and resubmit."
TALK = ("Talk to the learner: the answers file or the notebook was changed by hand, not by "
        "answering on the page.")
PLANTED = ("Talk to the learner: something other than plain files was handed in, perhaps to "
           "reach the answer key; it was not taken, and the rest was graded.")
EXTRA_FILES = ("Nothing to regrade: the notebook and answers were taken first and graded. Ask "
               "the learner what the other files are.")
LIMIT = ("Usually accidental, and the rest was graded. If the score looks wrong, ask the learner "
         "to remove any code they added and resubmit.")
CRASHED = "Ask the learner to remove any code they added to the notebook, then resubmit."
REGRADE = ("Run `privacy-course grade` again. If it happens again, open the log named here, "
           "or ask the learner to fetch the module again, redo it and resubmit.")
IMPOSTOR = ("Nothing was collected. Talk to both learners: one account handed work in under "
            "another learner's name.")
EXCHANGE = ("Run `privacy-course collect` again; if it happens again, ask the learner to "
            "resubmit, and check that the exchange folder is readable.")
NO_LEARNER = ("Nothing was collected: a folder in the exchange names no learner of the roster. "
              "Leave it; it is never graded.")
OLD_NOTE = "Grade the module again (`privacy-course grade --regrade`) to check it anew."

ACTIONS: dict[str, str] = {
    "folder-unreadable": EXCHANGE, "odd-name": PLANTED, "link": PLANTED, "special-file": PLANTED,
    "too-many-files": EXTRA_FILES, "file-unreadable": EXCHANGE, "hard-link": PLANTED,
    "too-large": EXTRA_FILES, "impossible-name": NO_LEARNER, "folder-vanished": EXCHANGE,
    "folder-is-link": PLANTED, "impostor": IMPOSTOR,
    "wrong-file-name": RENAMED, "no-notebook": RENAMED, "damaged-json": REDO,
    "not-a-notebook": REDO, "old-format": REDO, "cell-deleted": NOTHING_UNLESS,
    "test-cell-deleted": NOTHING_RESTORED, "cell-type-changed": NOTHING_UNLESS,
    "cell-edited": NOTHING_UNLESS, "no-answers-file": RERUN, "answers-unusable": RERUN,
    "unknown-scenario": TALK, "scenario-not-reached": TALK, "forced-pass": TALK,
    "time-limit": LIMIT, "memory-limit": LIMIT, "file-size-limit": LIMIT, "process-limit": LIMIT,
    "output-cut": LIMIT, "write-quota": LIMIT,
    "kernel-died": CRASHED, "bad-format": REDO, "worker-died": REGRADE, "grading-failed": REGRADE,
    "unknown-failure": REGRADE, "interrupted": REGRADE, "note": OLD_NOTE,
}

# A problem with the handed-in folder itself: grading cannot say anything better than this.
BLOCKING = frozenset({"wrong-file-name", "no-notebook", "damaged-json", "not-a-notebook",
                      "old-format"})
# Failures that may not recur on a second try (a machine under memory pressure, a dying worker).
TRANSIENT = frozenset({"worker-died", "kernel-died", "unknown-failure", "grading-failed"})


class Flag(str):
    """One flag: a stable `code`, its facts (`params`), and its sentence as the string value."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, **params: Any) -> Flag:
        if code not in TEXTS:
            raise KeyError(f"unknown flag code {code!r}")
        words = dict(params)
        if "problem" in words:
            words["plain_problem"] = plain(str(words["problem"]))
        obj = super().__new__(cls, TEXTS[code].format(**words))
        obj.code = code
        obj.params = dict(params)
        return obj

    @property
    def action(self) -> str:
        """What a facilitator does about it, in plain words."""
        return ACTIONS[self.code]

    def __getnewargs_ex__(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        # a flag crosses process boundaries (grading workers) by pickle
        return (self.code,), self.params

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, **({"params": self.params} if self.params else {})}

    @classmethod
    def from_json(cls, data: Any) -> Flag:
        """A stored flag; a plain sentence (a record from before codes) stays readable."""
        if isinstance(data, dict) and data.get("code") in TEXTS:
            try:
                return cls(data["code"], **dict(data.get("params") or {}))
            except (KeyError, IndexError, TypeError, ValueError):
                pass
        return cls("note", text=str(data.get("code", data) if isinstance(data, dict) else data))


# A reader's own detail inside brackets, after a colon: "(not valid JSON: Unterminated string
# starting at)", "([Errno 13] Permission denied: '/path')". The words before the colon stay.
_DETAIL = re.compile(r"\(([^():]*):[^()]*\)")


def plain(problem: str) -> str:
    """A problem as recorded, without the parser's or the system's own wording."""
    return _DETAIL.sub(r"(\1)", problem)


def unique(flags: Iterable[Flag]) -> tuple[Flag, ...]:
    """Each flag once, in the order first seen."""
    return tuple(dict.fromkeys(flags))


@dataclass
class SubmissionRecord:
    """What the last grading of one learner's submission of one module left."""

    problem: Flag | None = None
    flags: list[Flag] = field(default_factory=list)
    graded: bool = False
    timestamp: str = ""
    failures: int = 0
    log: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"graded": self.graded, "timestamp": self.timestamp,
                               "flags": [f.to_json() for f in self.flags]}
        if self.problem is not None:
            out["problem"] = self.problem.to_json()
        if self.failures:
            out["failures"] = self.failures
        if self.log:
            out["log"] = self.log
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SubmissionRecord:
        problem = data.get("problem")
        flags = data.get("flags", data.get("notes", []))
        return cls(problem=Flag.from_json(problem) if problem else None,
                   flags=[Flag.from_json(f) for f in flags if f] if isinstance(flags, list)
                   else [],
                   graded=bool(data.get("graded")), timestamp=str(data.get("timestamp") or ""),
                   failures=int(data.get("failures") or 0), log=str(data.get("log") or ""))


# An exception's name where a traceback names it: first on its line (nbgrader's log indents a
# traceback's lines), dotted path allowed, then a colon or the end of the line, e.g.
# "    nbclient.exceptions.DeadKernelError: Kernel died".
_RAISED = re.compile(r"^[ \t]*(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception))(?::|$)",
                     re.M)
FAILURES = {
    "DeadKernelError": "kernel-died",
    "CellTimeoutError": "time-limit",
    "TimeoutError": "time-limit",
    "NotJSONError": "damaged-json",
    "JSONDecodeError": "damaged-json",
    "NBFormatError": "bad-format",
    "ValidationError": "bad-format",
}


def failure_flag(error: str) -> Flag:
    """Why an nbgrader step failed, from the names of the exceptions its traceback raised (the
    last one it knows wins), never from words elsewhere in the log."""
    for name in reversed(_RAISED.findall(error or "")):
        if name in FAILURES:
            return Flag(FAILURES[name])
    lines = [line.strip() for line in (error or "").strip().splitlines() if line.strip()]
    return Flag("grading-failed", detail=lines[-1][:200]) if lines else Flag("unknown-failure")


RECORD_FILE = "grading-issues.json"
Record = dict[str, dict[str, SubmissionRecord]]


def load_record(cohort_folder: Path) -> Record:
    """{module: {learner: SubmissionRecord}} from the cohort's folder; empty when none yet."""
    try:
        data = json.loads((cohort_folder / RECORD_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {module: {learner: SubmissionRecord.from_json(entry)
                     for learner, entry in per.items() if isinstance(entry, dict)}
            for module, per in data.items() if isinstance(per, dict)}


def save_record(cohort_folder: Path, record: Record) -> None:
    data = {module: {learner: entry.to_json() for learner, entry in sorted(per.items())}
            for module, per in sorted(record.items()) if per}
    atomic_write_json(cohort_folder / RECORD_FILE, data)


# The notes channel inside a graded notebook: the Execute preprocessor's hooks and the trusted
# re-scorer add flags to the notebook's metadata under this key (kept by ClearMetadata through
# `preserve_nb_metadata_mask` in grader_config.py); the grader reads them from the autograded
# notebook. The first preprocessor resets it, so a learner cannot plant notes of her own.
NOTES_KEY = "privacy_course"


def reset_notes(nb: Any) -> None:
    nb.metadata[NOTES_KEY] = {"notes": []}


def add_note(nb: Any, flag: Flag) -> None:
    notes = nb.metadata.setdefault(NOTES_KEY, {}).setdefault("notes", [])
    entry = flag.to_json()
    if entry not in notes:
        notes.append(entry)


def notes_in(notebook: Mapping[str, Any]) -> list[Flag]:
    """The flags recorded in a graded notebook (a dict as read from its file)."""
    meta = notebook.get("metadata", {}).get(NOTES_KEY, {})
    notes = meta.get("notes", []) if isinstance(meta, dict) else []
    return [Flag.from_json(n) for n in notes] if isinstance(notes, list) else []
