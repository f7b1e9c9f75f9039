"""Course integrity, for every module: grade ids, points, the instructor version passes every
test, the learner version fails every test, and no graded key reaches anything learners get."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from privacy_course.authoring.build import module_ids

from .conftest import ROOT
from .learner import answer_key

MODULES = module_ids(ROOT)
SHIPPED_PACKAGE = ROOT / "privacy_course"


def notebook(kind: str, module_id: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / kind / module_id / f"{module_id}.ipynb", as_version=4)


def graded_cells(nb: nbformat.NotebookNode) -> list:
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


def test_there_are_modules():
    assert MODULES, "modules/ holds no module"


@pytest.mark.parametrize("module_id", MODULES)
def test_grade_ids_unique_and_points_present(module_id: str):
    for kind in ("source", "release"):
        nb = notebook(kind, module_id)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids)), f"{kind}/{module_id}: duplicate grade ids"
        cells = graded_cells(nb)
        assert cells, f"{kind}/{module_id}: no graded cells"
        for cell in cells:
            assert float(cell.metadata["nbgrader"].get("points", 0)) > 0, cell.id


@pytest.mark.parametrize("module_id", MODULES)
def test_every_check_and_exercise_is_graded_by_a_hidden_test(module_id: str):
    from privacy_course.authoring.content import load_module_content

    content = load_module_content(ROOT / "modules" / module_id, module_id)
    key = answer_key(ROOT / "source" / module_id / f"{module_id}.ipynb")
    assert set(key) == set(content.checks) | set(content.exercises)
    for check_id, check in content.checks.items():
        options = {o["id"] for o in check["options"]}
        expected = key[check_id]
        wanted = {expected} if isinstance(expected, str) else set(expected)
        assert wanted <= options, f"{module_id}: key for {check_id} names unknown options"
    for exercise_id, exercise in content.exercises.items():
        expected = key[exercise_id]
        assert set(expected) == {i["id"] for i in exercise["items"]}, exercise_id
        assert set(expected.values()) <= {c["id"] for c in exercise["categories"]}, exercise_id


@pytest.mark.parametrize("module_id", MODULES)
def test_no_graded_key_ships_to_learners(module_id: str):
    key = answer_key(ROOT / "source" / module_id / f"{module_id}.ipynb")
    hidden_lines = [
        line.strip()
        for cell in graded_cells(notebook("source", module_id))
        if "### BEGIN HIDDEN TESTS" in cell.source
        for line in cell.source.split("### BEGIN HIDDEN TESTS")[-1]
        .split("### END HIDDEN TESTS")[0].splitlines()
        # Lines of brackets alone (a key written over several lines) prove nothing.
        if sum(ch.isalnum() for ch in line) >= 3 and "HIDDEN TESTS" not in line
    ]
    assert len(hidden_lines) >= len(key) > 0
    shipped = [p for p in (ROOT / "release" / module_id).rglob("*") if p.is_file()]
    shipped += list((ROOT / "modules" / module_id).glob("*.yaml"))
    shipped += list(SHIPPED_PACKAGE.rglob("*.py"))
    for path in shipped:
        text = path.read_text(encoding="utf-8", errors="replace")
        for line in hidden_lines:
            assert line not in text, f"{path} contains the hidden test line {line!r}"
        assert "BEGIN HIDDEN TESTS" not in text or path.suffix == ".py", path
        assert "BEGIN SOLUTION" not in text or path.suffix == ".py", path
    release = notebook("release", module_id)
    for cell in release.cells:
        assert "course.record(" not in cell.source, "an answer-key cell reached the release"
        assert "course.expect" not in cell.source


@pytest.mark.parametrize("module_id", MODULES)
def test_explanations_reach_the_hidden_tests_and_never_the_learner(module_id: str):
    """A check's explanation says which answer is right and why: the key in words. It may be
    in the instructor notebook's hidden tests (so graded feedback teaches) and nowhere that
    ships to a learner before grading."""
    from privacy_course.authoring.content import load_module_content

    checks = load_module_content(ROOT / "modules" / module_id, module_id).checks
    explained = {cid: " ".join(str(c["explanation"]).split()) for cid, c in checks.items()
                 if c.get("explanation")}
    assert explained, f"{module_id}: no check has an explanation"
    hidden = "\n".join(cell.source for cell in graded_cells(notebook("source", module_id)))
    shipped = [p for p in (ROOT / "release" / module_id).rglob("*") if p.is_file()]
    shipped += [p for p in (ROOT / "source" / module_id / ".content").rglob("*") if p.is_file()]
    for cid, text in explained.items():
        assert repr(text) in hidden, f"{module_id}: {cid}'s explanation is not in its hidden test"
        for path in shipped:  # whole, whitespace-normalised: the prose may share a phrase
            body = " ".join(path.read_text(encoding="utf-8", errors="replace")
                            .replace("\\n", " ").replace('",', " ").replace('"', " ").split())
            assert " ".join(text.replace('"', " ").split()) not in body, (
                f"{path} carries the explanation of {cid}")


@pytest.mark.slow
@pytest.mark.parametrize("module_id", MODULES)
def test_validator_passes_source_and_fails_every_test_in_release(module_id: str,
                                                                  tmp_path: Path):
    from nbgrader.validator import Validator

    for kind, invert in (("source", False), ("release", True)):
        work = tmp_path / kind
        shutil.copytree(ROOT / kind / module_id, work)
        result = Validator(invert=invert).validate(str(work / f"{module_id}.ipynb"))
        assert result == {}, f"{kind}/{module_id}: {result}"
