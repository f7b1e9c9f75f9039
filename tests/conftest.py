"""Shared fixtures: the course root, throw-away copies of it, and the slow-test marker policy."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# nbgrader's gradebook runs the `alembic` command it finds on PATH: make it this environment's.
os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
os.environ.pop("PRIVACY_COURSE_ROOT", None)


def copy_course(dest: Path, modules: list[str] | None = None) -> Path:
    """A private copy of the course (config, modules, built trees) to grade or build in;
    `modules` limits it to some modules."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("grader_config.py", "nbgrader_config.py"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "states", dest / "states", dirs_exist_ok=True)  # built into modules
    for name in ("modules", "source", "release"):
        if not (ROOT / name).exists():
            continue
        if modules is None:
            shutil.copytree(ROOT / name, dest / name)
        else:
            for module_id in modules:
                shutil.copytree(ROOT / name / module_id, dest / name / module_id)
    return dest


@pytest.fixture
def course_copy(tmp_path: Path) -> Path:
    return copy_course(tmp_path / "course")


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT
