"""End to end: a learner who only clicks scores 100% after nbgrader autograde; a learner who
hands in the untouched notebook scores 0, with no errors and nothing on stderr."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from privacy_course.authoring.build import module_ids
from privacy_course.learner.responses import read_responses

from .conftest import ROOT
from .grading_helpers import autograde, nbgrader_api, noisy_outputs, submit_folder
from .learner import answer_key, run_module, type_solutions

pytestmark = pytest.mark.slow

MODULES = module_ids(ROOT)
MIN_CHECKS = 5  # every module has at least five graded checks


def generate(course: Path, module_id: str) -> Path:
    """Enter one module in the copy's gradebook. nbgrader's by-product release goes to a scratch
    folder: learners get the committed release/ (with its scaffolds), as in a real cohort."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        api = nbgrader_api(course)
        api.coursedir.release_directory = scratch
        result = api.generate_assignment(module_id, force=True, create=True)
    assert result["success"], result.get("error")
    return course


@pytest.mark.parametrize("module_id", MODULES)
def test_click_only_learner_scores_full_marks(course_copy: Path, tmp_path: Path, module_id: str):
    generated = generate(course_copy, module_id)
    work = tmp_path / "alice" / module_id
    shutil.copytree(generated / "release" / module_id, work)
    source_nb = generated / "source" / module_id / f"{module_id}.ipynb"
    key = answer_key(source_nb)
    assert key, f"{module_id} has no graded checks"
    type_solutions(work / f"{module_id}.ipynb", source_nb)  # scaffolded code exercises only
    run_module(work / f"{module_id}.ipynb", answers=key)

    saved = read_responses(work / f"{module_id}.responses.json", module_id)
    assert saved.problem is None
    assert all(s["finished"] for s in saved.data["scenarios"].values())

    submit_folder(generated, "alice", module_id, work)
    grade = autograde(generated, "alice", module_id)
    assert grade["max_score"] >= MIN_CHECKS
    assert grade["score"] == grade["max_score"]
    graded = generated / "autograded" / "alice" / module_id / f"{module_id}.ipynb"
    assert noisy_outputs(graded) == []


@pytest.mark.parametrize("module_id", MODULES)
def test_untouched_release_scores_zero_quietly(course_copy: Path, tmp_path: Path,
                                               module_id: str):
    generated = generate(course_copy, module_id)
    work = tmp_path / "bob" / module_id
    shutil.copytree(generated / "release" / module_id, work)
    submit_folder(generated, "bob", module_id, work)
    grade = autograde(generated, "bob", module_id)
    assert grade["score"] == 0
    assert grade["max_score"] >= MIN_CHECKS
    graded = generated / "autograded" / "bob" / module_id / f"{module_id}.ipynb"
    assert noisy_outputs(graded) == []
    assert "Traceback" not in grade["log"]


def test_wrong_answers_score_zero(course_copy: Path, tmp_path: Path):
    module_id = MODULES[0]
    generated = generate(course_copy, module_id)
    work = tmp_path / "carol" / module_id
    shutil.copytree(generated / "release" / module_id, work)
    key = answer_key(generated / "source" / module_id / f"{module_id}.ipynb")
    content_checks = read_checks(generated / "release" / module_id)
    wrong = {}
    for check_id, expected in key.items():
        options = [o["id"] for o in content_checks[check_id]["options"]]
        if isinstance(expected, str):
            wrong[check_id] = next(o for o in options if o != expected)
        else:
            wrong[check_id] = [o for o in options if o not in expected][:1] or options[:1]
    run_module(work / f"{module_id}.ipynb", answers=wrong)
    submit_folder(generated, "carol", module_id, work)
    grade = autograde(generated, "carol", module_id)
    assert grade["score"] == 0


def read_checks(folder: Path) -> dict:
    from privacy_course.authoring.content import content_folder, load_module_content

    return load_module_content(content_folder(folder), folder.name).checks


@pytest.mark.parametrize("module_id", ["m01-making-the-case", "m06-deidentification"])
def test_a_notebook_nobody_opened_grades_the_same(course_copy: Path, tmp_path: Path,
                                                  module_id: str):
    """The module page never edits the notebook file: what it leaves is the untouched notebook
    beside the responses store and the work products. That grades exactly as a notebook the
    learner ran in JupyterLab with the same answers."""
    generated = generate(course_copy, module_id)
    ran = tmp_path / "dora" / module_id
    shutil.copytree(generated / "release" / module_id, ran)
    source_nb = generated / "source" / module_id / f"{module_id}.ipynb"
    type_solutions(ran / f"{module_id}.ipynb", source_nb)  # m06: what its controls record
    run_module(ran / f"{module_id}.ipynb",
               answers=answer_key(generated / "source" / module_id / f"{module_id}.ipynb"))
    page = tmp_path / "page" / module_id
    shutil.copytree(generated / "release" / module_id, page)
    for made in ran.iterdir():  # everything the page writes: responses and work products
        if made.is_file() and made.suffix != ".ipynb":
            shutil.copy2(made, page / made.name)
    assert (page / f"{module_id}.ipynb").read_bytes() == (
        generated / "release" / module_id / f"{module_id}.ipynb").read_bytes()
    grades = {}
    for learner, folder in (("dora", ran), ("page", page)):
        submit_folder(generated, learner, module_id, folder)
        grades[learner] = autograde(generated, learner, module_id)
    assert grades["page"]["score"] == grades["dora"]["score"] == grades["dora"]["max_score"]
