"""The learner's profile: who she is and for which district she works, asked once.

Every work product carries the district's name, the author and her role; the "Your state"
sections and state-dependent feedback follow her state. She gives them once (on the course home
or in Module 1) and every module reads them from one small file in her course folder,
`.privacy-course/profile.json` (hidden: it is not a document she keeps, and it never travels
with a submission, which holds only a module's own folder).

A module's kernel runs in `<course folder>/<module>/`, so `load_profile(module_folder)` looks
in the module folder's parent. A missing or damaged file reads as an empty profile, never as
an error: a page must open whatever is on disk.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from privacy_course.learner.responses import atomic_write_json

PROFILE_DIR = ".privacy-course"
PROFILE_FILE = "profile.json"
MAX_LENGTH = 200


@dataclass(frozen=True)
class Profile:
    """What the learner told the course about herself. Empty strings mean "not given"."""

    district: str = ""
    author: str = ""
    role: str = ""
    state: str = ""  # a two-letter postal code (e.g. "NY"), upper case, or ""

    def is_empty(self) -> bool:
        return not any(asdict(self).values())


def profile_path(course_folder: Path) -> Path:
    """Where the profile of the learner working in `course_folder` lives."""
    return Path(course_folder) / PROFILE_DIR / PROFILE_FILE


def _clean(name: str, value: Any) -> str:
    text = " ".join(str(value or "").split())[:MAX_LENGTH]
    return text.upper() if name == "state" else text


def read_profile(course_folder: Path) -> Profile:
    """The profile saved in a course folder; an empty Profile when none is readable."""
    try:
        data = json.loads(profile_path(course_folder).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Profile()
    if not isinstance(data, dict):
        return Profile()
    return Profile(**{f.name: _clean(f.name, data.get(f.name)) for f in fields(Profile)})


def load_profile(module_folder: Path | str | None = None) -> Profile:
    """The profile as a module sees it: read from its course folder, the module folder's parent
    (the kernel's working folder's parent when no folder is given)."""
    folder = Path(module_folder or Path.cwd()).resolve()
    return read_profile(folder.parent)


def save_profile(course_folder: Path, **changes: str) -> Profile:
    """Change some fields of the saved profile (others are kept) and write it atomically.
    Unknown field names raise a ValueError naming them."""
    known = {f.name for f in fields(Profile)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"unknown profile field(s): {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(known))})")
    current = asdict(read_profile(course_folder))
    current.update({name: _clean(name, value) for name, value in changes.items()})
    profile = Profile(**current)
    atomic_write_json(profile_path(course_folder), asdict(profile))
    return profile
