"""What a submission did that a facilitator should know about, in plain words.

nbgrader restores edited or deleted test cells and grades on, but tells nobody who did what (its
checksum warning even fires for every cell with hidden tests, jupyter/nbgrader#1961). These
checks compare each handed-in notebook and responses file with what the learner was given, so
that `status` and the reports can show each event as a flag instead of a silent zero. (The limits
the sandbox enforced are recorded by the sandboxed Execute preprocessor itself, where they
happen.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from privacy_course.authoring.content import module_content
from privacy_course.authoring.scenario_graph import leads_to_ending, reachable_endings
from privacy_course.learner.responses import read_responses
from privacy_course.record import Flag


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


def _scenario_claims(root: Path, module_id: str, data: dict) -> list[Flag]:
    content = module_content(root / "source" / module_id, module_id)
    flags = []
    for sid, state in data.get("scenarios", {}).items():
        if not isinstance(state, dict) or state.get("finished") is not True:
            continue
        scenario = content.scenarios.get(sid)
        if scenario is None:
            flags.append(Flag("unknown-scenario", scenario=sid))
            continue
        recorded = state.get("trail")
        trail: list[Any] = recorded if isinstance(recorded, list) else []
        history = state.get("history")
        reached_end = any(
            isinstance(t, dict) and leads_to_ending(scenario, t.get("step"), t.get("choice"))
            for t in trail) or (isinstance(history, list) and any(  # an earlier play's ending
                isinstance(h, dict) and h.get("ending") in reachable_endings(scenario)
                for h in history))
        if not reached_end:
            flags.append(Flag("scenario-not-reached", scenario=sid))
    return flags


def inspect_submission(root: Path, folder: Path, module_id: str) -> list[Flag]:
    """Flags for a handed-in folder, compared with the module's release version."""
    expected = folder / f"{module_id}.ipynb"
    if not expected.exists():
        others = sorted(p.name for p in folder.glob("*.ipynb"))
        if others:
            return [Flag("wrong-file-name", found=", ".join(others), expected=expected.name)]
        return [Flag("no-notebook")]
    flags: list[Flag] = []
    try:
        submitted = json.loads(expected.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return [Flag("damaged-json")]
    if not isinstance(submitted, dict):
        return [Flag("not-a-notebook")]
    if submitted.get("nbformat") != 4:
        return [Flag("old-format", version=repr(submitted.get("nbformat")))]
    release = json.loads((root / "release" / module_id / expected.name).read_text("utf-8"))
    mine = _cells_by_id(submitted)
    for grade_id, original in _cells_by_id(release).items():
        meta = original.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("locked") or meta.get("grade")):
            continue
        kind = "test cell" if meta.get("grade") else "read-only cell"
        cell = mine.get(grade_id)
        if cell is None:
            flags.append(Flag("test-cell-deleted" if meta.get("grade") else "cell-deleted",
                              kind=kind, grade_id=grade_id))
        elif cell.get("cell_type") != original.get("cell_type"):
            flags.append(Flag("cell-type-changed", kind=kind, grade_id=grade_id,
                              before=original.get("cell_type"), after=cell.get("cell_type")))
        elif _source(cell) != _source(original):
            flags.append(Flag("cell-edited", kind=kind, grade_id=grade_id))
    result = read_responses(folder / f"{module_id}.responses.json", module_id)
    if not (folder / f"{module_id}.responses.json").exists():
        flags.append(Flag("no-answers-file"))
    elif result.problem:
        flags.append(Flag("answers-unusable", problem=result.problem))
    else:
        flags.extend(_scenario_claims(root, module_id, result.data))
    return flags
