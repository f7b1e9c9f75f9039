"""Grading a learner's copy of a module with nbgrader's own autograde, for the tests."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat

from privacy_course.config import load_config


def nbgrader_api(course: Path):
    from nbgrader.apps import NbGraderAPI

    config = load_config(course)
    Path(config.Exchange.root).mkdir(parents=True, exist_ok=True)
    return NbGraderAPI(config=config)


def submit_folder(course: Path, learner: str, module_id: str, work: Path) -> Path:
    """Put a learner's folder where nbgrader's collect step would: submitted/<learner>/<id>/."""
    dest = course / "submitted" / learner / module_id
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(work, dest)
    (dest / "timestamp.txt").write_text("2026-11-20 10:00:00.000000 UTC\n")
    # nbgrader's submit adds a secret that its feedback step needs (it names the feedback file).
    (dest / "submission_secret.txt").write_text(learner + "-secret")
    return dest


def autograde(course: Path, learner: str, module_id: str) -> dict:
    api = nbgrader_api(course)
    result = api.autograde(module_id, learner, force=True, create=True)
    assert result["success"], result.get("error") or result.get("log")
    from nbgrader.api import Gradebook

    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        submission = gb.find_submission(module_id, learner)
        return {"score": submission.score, "max_score": submission.max_score, "log": result["log"]}


def noisy_outputs(notebook: Path) -> list[str]:
    """Error outputs and anything on stderr in a graded notebook."""
    nb = nbformat.read(notebook, as_version=4)
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error" or (
                output.output_type == "stream" and output.name == "stderr"
            ):
                found.append(f"{cell.get('id')}: {output.get('ename') or output.get('text')}")
    return found
