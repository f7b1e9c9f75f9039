"""Build the course: modules/ (authored text) -> source/ (nbgrader's instructor tree) -> release/,
and each module's scenario maps (modules/<id>/maps/, for its facilitator guide).

`source/` and `release/` are committed so that a facilitator can run a cohort without building,
and so that review shows what learners will get. The build is deterministic (no outputs, no
execution counts, no saved widget state, cell ids from grade ids, sorted JSON), which is what lets
`build --check` compare a fresh build with the committed trees byte for byte.
"""

from __future__ import annotations

import filecmp
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from privacy_course.authoring.content import (
    CONTENT_DIR,
    FEEDBACK_ONLY,
    SCHEMAS,
    load_module_content,
)
from privacy_course.authoring.scenario_map import stale_maps, write_maps
from privacy_course.authoring.state_data import write_module_copy
from privacy_course.config import load_config
from privacy_course.errors import CourseError

MODULE_ID = re.compile(r"^m\d\d-[a-z0-9-]+$")
# Files in a module folder that never reach learners.
NOT_SHIPPED = {"facilitator.md", "maps"}  # maps: the facilitator guide's scenario maps
NBGRADER_DEFAULTS = {"grade": False, "solution": False, "locked": False, "task": False,
                     "schema_version": 3}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class BuildError(CourseError, RuntimeError):
    """A module could not be built; the message names the module and file."""


@dataclass
class CheckResult:
    stale: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.stale


def module_ids(root: Path) -> list[str]:
    """The course's modules: folders of modules/ named like `m01-some-topic`, in order."""
    folder = root / "modules"
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and MODULE_ID.match(p.name))


def _normalise(nb: nbformat.NotebookNode, module_id: str) -> nbformat.NotebookNode:
    """Strip everything that varies between runs and fill nbgrader metadata defaults."""
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        meta = cell.metadata
        if "nbgrader" in meta:
            meta["nbgrader"] = {**NBGRADER_DEFAULTS, **meta["nbgrader"]}
            grade_id = meta["nbgrader"].get("grade_id")
            if not grade_id:
                raise BuildError(f"{module_id}: cell {index} has nbgrader metadata but no grade_id")
            cell_id = grade_id
        else:
            cell_id = f"cell-{index:03d}"
        if cell_id in seen:
            raise BuildError(f"{module_id}: grade_id {cell_id!r} is used by more than one cell")
        seen.add(cell_id)
        cell["id"] = cell_id
        for key in ("execution", "collapsed", "scrolled"):
            meta.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    """Write a notebook as stable JSON (sorted keys, one-space indent, final newline)."""
    nb.metadata.pop("widgets", None)  # saved widget state must never ship
    text = nbformat.writes(nb, version=4)
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")


def build_source(root: Path, module_id: str, out_root: Path) -> Path:
    """modules/<id>/ -> <out_root>/source/<id>/: the notebook plus the files learners get."""
    import jupytext

    src = root / "modules" / module_id
    text_nb = src / f"{module_id}.md"
    if not text_nb.is_file():
        raise BuildError(f"{module_id}: {text_nb} is missing")
    content = load_module_content(src, module_id)  # schema-check the YAML before writing
    try:
        nb = jupytext.read(text_nb, fmt="md:myst")
    except Exception as exc:
        raise BuildError(f"{text_nb}: could not be read as MyST Markdown: {exc}") from exc
    dest = out_root / "source" / module_id
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    write_notebook(add_explanations(_normalise(nb, module_id), content.checks),
                   dest / f"{module_id}.ipynb")
    # Content files (YAML, templates, data) ship in a hidden folder: the learner's module folder
    # shows only the notebook and what the learner makes, never the machinery behind the page.
    shipped = dest / CONTENT_DIR
    shipped.mkdir()
    for item in sorted(src.iterdir()):
        if item.name in NOT_SHIPPED or item == text_nb or item.name.startswith("."):
            continue
        if item.suffix in (".yaml", ".yml") and item.name not in SCHEMAS:
            raise BuildError(f"{item}: unknown content file; expected one of {sorted(SCHEMAS)}")
        if item.is_dir():
            shutil.copytree(item, shipped / item.name,
                            ignore=shutil.ignore_patterns("__pycache__", ".*"))
        elif item.name == "checks.yaml":
            write_learner_checks(item, shipped / item.name)
        else:
            shutil.copy2(item, shipped / item.name)
    # The state dataset travels with every module, for its "Your state" section.
    write_module_copy(root, shipped)
    return dest


EXPECT_CALL = re.compile(r"^(?P<head>course\.expect\((?P<q>[\"'])(?P<key>[a-z0-9-]+)(?P=q),"
                         r".*?)\)\s*$")


def add_explanations(nb: nbformat.NotebookNode, checks: dict[str, dict]
                     ) -> nbformat.NotebookNode:
    """Give each hidden `course.expect("<check>", key)` its check's explanation and source, as
    keyword arguments, so the graded feedback says why the keyed answer is right. They live in
    the hidden tests only: nbgrader removes those from release/ and from feedback, while the
    learner's copy of checks.yaml is built without them (write_learner_checks)."""
    for cell in nb.cells:
        if cell.cell_type != "code" or not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        lines = []
        for line in cell.source.split("\n"):
            found = EXPECT_CALL.match(line)
            check = checks.get(found["key"], {}) if found else {}
            extra = [f"{arg}={' '.join(str(check[field]).split())!r}"
                     for field, arg in (("explanation", "why"), ("source", "source"))
                     if check.get(field)]
            if found and extra and "why=" not in line:
                line = f"{found['head']}, {', '.join(extra)})"
            lines.append(line)
        cell.source = "\n".join(lines)
    return nb


def write_learner_checks(authored: Path, shipped: Path) -> None:
    """The learner's copy of checks.yaml: the authored file without its feedback-only fields
    (an explanation of why the keyed option is right would be the key in words)."""
    import yaml

    data = yaml.safe_load(authored.read_text(encoding="utf-8"))
    for check in data.get("checks", []):
        for name in FEEDBACK_ONLY:
            check.pop(name, None)
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    shipped.write_text(
        "# Built from the module's checks.yaml without its feedback-only fields. Do not edit.\n"
        + text, encoding="utf-8")


def build_release(root: Path, module_id: str, out_root: Path) -> Path:
    """<out_root>/source/<id>/ -> <out_root>/release/<id>/ with nbgrader's generate step,
    run without a gradebook."""
    from nbgrader.apps import NbGraderAPI

    config = load_config(root)
    config.CourseDirectory.root = str(out_root)
    config.GenerateAssignment.no_database = True
    config.SaveCells.enabled = False
    with tempfile.TemporaryDirectory() as tmp:
        config.CourseDirectory.db_url = f"sqlite:///{tmp}/unused.db"
        api = NbGraderAPI(config=config)
        api.log.setLevel(logging.ERROR)
        result = api.generate_assignment(module_id, force=True, create=False)
    if not result.get("success"):
        raise BuildError(
            f"{module_id}: nbgrader could not generate the release:\n{result.get('error', '')}"
            f"\n{result.get('log', '')}"
        )
    dest = out_root / "release" / module_id
    for path in sorted(dest.glob("*.ipynb")):
        write_notebook(apply_scaffolds(nbformat.read(path, as_version=4)), path)
    return dest


def apply_scaffolds(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Give learners a starting point in scaffolded code exercises.

    nbgrader replaces every solution with one course-wide stub. A solution cell whose metadata
    has `scaffold: <code>` gets that code in the release instead (the values a learner is meant
    to change, marked), and its checksum is recomputed the way nbgrader computes it."""
    from nbgrader.utils import compute_checksum

    for cell in nb.cells:
        scaffold = cell.metadata.pop("scaffold", None)
        if scaffold is None:
            continue
        if not cell.metadata.get("nbgrader", {}).get("solution"):
            raise BuildError(f"cell {cell.get('id')}: 'scaffold' is only for solution cells")
        cell.source = scaffold.rstrip("\n")
        cell.metadata["nbgrader"]["checksum"] = compute_checksum(cell)
    return nb


def build(root: Path, out_root: Path | None = None, modules: list[str] | None = None) -> list[str]:
    """Build the named modules (default: all) into `out_root` (default: the course root)."""
    out_root = out_root or root
    ids = modules or module_ids(root)
    unknown = [m for m in ids if m not in module_ids(root)]
    if unknown:
        raise BuildError(f"no such module folder(s) in {root / 'modules'}: {unknown}")
    for module_id in ids:
        build_source(root, module_id, out_root)
        build_release(root, module_id, out_root)
        if out_root == root:
            write_maps(root, module_id)
    return ids


def _files(tree: Path) -> set[Path]:
    if not tree.exists():
        return set()
    return {p.relative_to(tree) for p in tree.rglob("*") if p.is_file()
            and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}


def _tree_diff(fresh: Path, committed: Path, label: str) -> list[str]:
    stale: list[str] = []
    fresh_files = _files(fresh)
    committed_files = _files(committed)
    for rel in sorted(fresh_files - committed_files):
        stale.append(f"{label}/{rel} (missing: run `privacy-course build`)")
    for rel in sorted(committed_files - fresh_files):
        stale.append(f"{label}/{rel} (not produced by the build: remove it)")
    for rel in sorted(fresh_files & committed_files):
        if not filecmp.cmp(fresh / rel, committed / rel, shallow=False):
            stale.append(f"{label}/{rel} (differs from a fresh build)")
    return stale


def check(root: Path) -> CheckResult:
    """Build everything into a temporary folder and compare with the committed source/ and
    release/ trees."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        build(root, out)
        stale = _tree_diff(out / "source", root / "source", "source")
        stale += _tree_diff(out / "release", root / "release", "release")
    for module_id in module_ids(root):
        stale += stale_maps(root, module_id)
    return CheckResult(stale)
