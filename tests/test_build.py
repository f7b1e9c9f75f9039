"""The build: deterministic output, nothing that varies or must not ship, and a check mode that
names stale files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from privacy_course.authoring.build import build, check, module_ids

pytestmark = pytest.mark.slow


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_committed_trees_are_up_to_date(root: Path):
    result = check(root)
    assert result.ok, "\n".join(result.stale)


def test_build_is_deterministic(course_copy: Path, tmp_path: Path):
    build(course_copy, tmp_path / "one")
    build(course_copy, tmp_path / "two")
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


def test_built_notebooks_have_no_outputs_counts_or_widget_state(root: Path):
    for module_id in module_ids(root):
        for kind in ("source", "release"):
            nb = json.loads((root / kind / module_id / f"{module_id}.ipynb").read_text())
            assert "widgets" not in nb["metadata"]
            for cell in nb["cells"]:
                if cell["cell_type"] == "code":
                    assert cell["outputs"] == [] and cell["execution_count"] is None


def test_facilitator_guide_is_not_shipped(root: Path):
    for module_id in module_ids(root):
        assert (root / "modules" / module_id / "facilitator.md").is_file()
        assert not (root / "source" / module_id / "facilitator.md").exists()
        assert not (root / "release" / module_id / "facilitator.md").exists()


def test_check_names_stale_and_stray_files(course_copy: Path):
    module_id = module_ids(course_copy)[0]
    md = course_copy / "modules" / module_id / f"{module_id}.md"
    md.write_text(md.read_text() + "\nOne more sentence.\n")
    (course_copy / "release" / module_id / "stray.txt").write_text("x")
    stale = check(course_copy).stale
    assert f"source/{module_id}/{module_id}.ipynb (differs from a fresh build)" in stale
    assert f"release/{module_id}/{module_id}.ipynb (differs from a fresh build)" in stale
    assert f"release/{module_id}/stray.txt (not produced by the build: remove it)" in stale


def test_cli_check_exits_non_zero_when_stale(course_copy: Path):
    module_id = module_ids(course_copy)[0]
    (course_copy / "source" / module_id / f"{module_id}.ipynb").unlink()
    result = subprocess.run([sys.executable, "-m", "privacy_course.cli", "build", "--check"],
                            cwd=course_copy, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    assert f"source/{module_id}/{module_id}.ipynb (missing" in result.stdout


def test_cli_build_reports_bad_yaml_by_file_and_key(course_copy: Path):
    module_id = module_ids(course_copy)[0]
    checks = course_copy / "modules" / module_id / "checks.yaml"
    checks.write_text(checks.read_text().replace("kind: single", "kind: essay", 1))
    result = subprocess.run([sys.executable, "-m", "privacy_course.cli", "build"],
                            cwd=course_copy, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert "checks.yaml" in result.stderr and ".kind" in result.stderr


def test_scaffold_replaces_the_stub_in_the_release(course_copy: Path, tmp_path: Path):
    """A scaffolded code exercise shows learners its marked starting values, not the stub."""
    module_id = module_ids(course_copy)[0]
    md = course_copy / "modules" / module_id / f"{module_id}.md"
    md.write_text(md.read_text() + '''
```{code-cell} ipython3
---
nbgrader: {grade_id: try-values, solution: true}
scaffold: |
  MIN_CELL_SIZE = 0  # <- change this
---
### BEGIN SOLUTION
MIN_CELL_SIZE = 10
### END SOLUTION
```
''')
    build(course_copy, tmp_path / "out")
    release = json.loads((tmp_path / "out" / "release" / module_id / f"{module_id}.ipynb")
                         .read_text())
    cell = next(c for c in release["cells"] if c["id"] == "try-values")
    assert "".join(cell["source"]) == "MIN_CELL_SIZE = 0  # <- change this"
    assert "scaffold" not in cell["metadata"]
    from nbformat import from_dict
    from nbgrader.utils import compute_checksum

    as_node = from_dict({**cell, "source": "".join(cell["source"])})
    assert cell["metadata"]["nbgrader"]["checksum"] == compute_checksum(as_node)
    source = json.loads((tmp_path / "out" / "source" / module_id / f"{module_id}.ipynb")
                        .read_text())
    assert "MIN_CELL_SIZE = 10" in "".join(
        next(c for c in source["cells"] if c["id"] == "try-values")["source"])
