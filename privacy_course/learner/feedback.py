"""The graded feedback, on the module page: each knowledge check, right or not, and why.

nbgrader returns feedback as an HTML rendering of the graded notebook, made for programmers
(code, prompts, widget placeholders). What the learner needs from it is what the grader wrote
for each check (`checks.teaching_note`: right or not, her answer, the right answer, why, the
source). Those notes are the outputs of the graded cells, and always start with "Right:" or
"Not right:", so they are read back from the page nbgrader returned and shown on the module
page itself, as sentences.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

NOTE = re.compile(r"<pre>((?:Right|Not right): .*?)</pre>", re.S)
LABELS = ("Your answer", "The right answer", "Why", "Source")


@dataclass
class TeachingNote:
    """One knowledge check as the feedback explains it."""

    right: bool
    question: str
    parts: list[tuple[str, str]] = field(default_factory=list)  # (label, text), in LABELS order


def teaching_notes(page: Path) -> list[TeachingNote]:
    """The notes of every graded check in a feedback page, in the page's order."""
    try:
        text = page.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    notes = []
    for found in NOTE.finditer(text):
        lines = html.unescape(found.group(1)).strip().splitlines()
        verdict, _, question = lines[0].partition(": ")
        note = TeachingNote(verdict == "Right", question.strip())
        for line in lines[1:]:
            label, sep, rest = line.partition(": ")
            if sep and label in LABELS:
                note.parts.append((label, rest.strip()))
            elif note.parts:  # a wrapped line continues the part before it
                label, before = note.parts[-1]
                note.parts[-1] = (label, f"{before} {line.strip()}")
        notes.append(note)
    return notes
