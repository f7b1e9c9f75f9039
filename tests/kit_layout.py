"""The kit as a district gets it, for tests/test_deploy.py and tests/test_hub.py: the repository
copied as `git clone` gives it, and a probe that reports which answer keys a Unix user can read
anywhere the kit's installer put files."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import nbformat

from .conftest import ROOT

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
TEXT_SUFFIXES = (".ipynb", ".md", ".py", ".json", ".yaml", ".yml", ".txt", ".html", ".csv")


def copy_kit(dest: Path, modules: list[str]) -> Path:
    """The repository's tracked and new (not ignored) files, as a clone has them, with only
    `modules` of the course (every module would only make cohort creation slower)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        parts = Path(name).parts
        if parts[0] in ("modules", "source", "release") and len(parts) > 1 \
                and parts[1] not in modules:
            continue
        if not (ROOT / name).is_file():
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, dest / name)
    return dest


def key_markers(module: str) -> list[str]:
    """Lines only the module's answer key holds: each line of its hidden tests (in the
    instructor notebook, as in the authored module), e.g. `course.expect("no-news", "b")`."""
    nb = nbformat.read(ROOT / "source" / module / f"{module}.ipynb", as_version=4)
    lines = {line.strip() for cell in nb.cells for block in HIDDEN.findall(cell.source)
             for line in block.splitlines() if len(line.strip()) > 12}
    assert lines, f"{module} has no hidden tests to look for"
    return sorted(lines)


PROBE = """
import os
tops, markers, suffixes = {tops!r}, {markers!r}, {suffixes!r}
found, denied, read = [], [], 0
for top in tops:
    for folder, dirs, files in os.walk(top, onerror=lambda e: denied.append(e.filename)):
        for name in files:
            path = os.path.join(folder, name)
            if os.path.islink(path) or not name.endswith(suffixes):
                continue
            try:
                with open(path, encoding='utf-8', errors='replace') as f:
                    text = f.read(8_000_000)
            except OSError:
                continue
            read += 1
            if any(m in text for m in markers):
                found.append(path)
print('PROBE', repr({{'read': read, 'found': sorted(found), 'denied': sorted(denied)}}))
"""


def probe_code(tops: list[Path], markers: list[str]) -> str:
    """Python (standard library only) that walks `tops` as whoever runs it and prints what it
    could read: how many text files, which hold a marker, which folders it could not enter.
    Text a file holds in a notebook's JSON is escaped, so markers are looked for both ways."""
    escaped = [m.replace('"', '\\"') for m in markers]
    return PROBE.format(tops=[str(t) for t in tops], markers=sorted(set(markers + escaped)),
                        suffixes=TEXT_SUFFIXES)


def probe_result(output: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith("PROBE "))
    return ast.literal_eval(line[len("PROBE "):])
