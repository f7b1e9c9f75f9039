"""What a submission did that a facilitator should know about, in plain words.

nbgrader restores edited or deleted test cells and grades on, but tells nobody who did what (its
checksum warning even fires for every cell with hidden tests, jupyter/nbgrader#1961). These
checks compare each handed-in notebook and responses file with what the learner was given, and
read the graded notebook for the limits the sandbox enforced, so that `status` and the reports
can show each event as a flag instead of a silent zero.
"""

from __future__ import annotations

import json
from pathlib import Path

from privacy_course.authoring.content import END, module_content
from privacy_course.learner.responses import read_responses


def _cells_by_id(nb: dict) -> dict[str, dict]:
    out = {}
    for cell in nb.get("cells", []):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or cell.get("id")
        if grade_id:
            out[grade_id] = cell
    return out


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _scenario_claims(root: Path, module_id: str, data: dict) -> list[str]:
    content = module_content(root / "source" / module_id, module_id)
    flags = []
    for sid, state in data.get("scenarios", {}).items():
        if not isinstance(state, dict) or state.get("finished") is not True:
            continue
        scenario = content.scenarios.get(sid)
        if scenario is None:
            flags.append(f"the answers file claims an unknown scenario {sid!r} was finished")
            continue
        steps = {s["id"]: {c["id"]: c["next"] for c in s["choices"]} for s in scenario["steps"]}
        trail = state.get("trail") if isinstance(state.get("trail"), list) else []
        reached_end = any(
            isinstance(t, dict) and steps.get(t.get("step"), {}).get(t.get("choice")) == END
            for t in trail)
        if not reached_end:
            flags.append(f"the answers file claims scenario {sid!r} was finished, but no "
                         "recorded choice reaches its end")
    return flags


def inspect_submission(root: Path, folder: Path, module_id: str) -> list[str]:
    """Flags for a handed-in folder, compared with the module's release version."""
    expected = folder / f"{module_id}.ipynb"
    if not expected.exists():
        others = sorted(p.name for p in folder.glob("*.ipynb"))
        if others:
            return [f"wrong file name: handed in {', '.join(others)} instead of {expected.name}"]
        return ["no notebook in the submission"]
    flags: list[str] = []
    try:
        submitted = json.loads(expected.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return ["the notebook file is damaged (not valid JSON)"]
    if not isinstance(submitted, dict):
        return ["the notebook file does not hold a notebook"]
    if submitted.get("nbformat") != 4:
        return [f"notebook format {submitted.get('nbformat')!r}, not 4 (saved by an old or "
                "foreign tool)"]
    release = json.loads((root / "release" / module_id / expected.name).read_text("utf-8"))
    mine = _cells_by_id(submitted)
    for grade_id, original in _cells_by_id(release).items():
        meta = original.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("locked") or meta.get("grade")):
            continue
        kind = "test cell" if meta.get("grade") else "read-only cell"
        cell = mine.get(grade_id)
        if cell is None:
            flags.append(f"{kind} {grade_id} was deleted"
                         + (" (it was put back and graded)" if meta.get("grade") else ""))
        elif cell.get("cell_type") != original.get("cell_type"):
            flags.append(f"{kind} {grade_id} was changed from {original.get('cell_type')} to "
                         f"{cell.get('cell_type')}")
        elif _source(cell) != _source(original):
            flags.append(f"{kind} {grade_id} was edited")
    result = read_responses(folder / f"{module_id}.responses.json", module_id)
    if not (folder / f"{module_id}.responses.json").exists():
        flags.append("no saved answers file was handed in")
    elif result.problem:
        flags.append(f"saved answers unusable: {result.problem}")
    else:
        flags.extend(_scenario_claims(root, module_id, result.data))
    return flags


LIMIT_SIGNS = [
    ("CellTimeoutError", "a cell ran longer than the time limit"),
    ("MemoryError", "a cell hit the memory limit"),
    ("File too large", "a cell hit the file size limit"),
    ("Resource temporarily unavailable", "a cell hit the process limit"),
    ("[output limit", "output was cut at the output limit"),
    ("No space left on device", "a cell hit the write quota (the most a notebook may write in "
     "total while it is graded)"),
]


def inspect_graded(notebook: Path) -> list[str]:
    """Flags read from a graded notebook's outputs: the sandbox's limits that were hit."""
    try:
        text = notebook.read_text(encoding="utf-8")
    except OSError:
        return []
    return [flag for sign, flag in LIMIT_SIGNS if sign in text]
