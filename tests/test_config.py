"""One configuration: grader_config.py is what every command and plain nbgrader use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from privacy_course.config import ConfigError, course_settings, find_course_root, load_config


def test_loads_course_settings_and_pins_root(course_copy: Path):
    config = load_config(course_copy)
    assert Path(config.CourseDirectory.root) == course_copy.resolve()
    assert config.CourseDirectory.db_url.endswith(str(course_copy.resolve() / "gradebook.db"))
    assert course_settings(config).pass_mark == 0.8
    assert config.OverwriteCells.add_missing_cells is True


def test_root_found_from_a_subfolder(course_copy: Path):
    assert find_course_root(course_copy / "modules") == course_copy.resolve()


def test_missing_root_setting_is_refused(course_copy: Path):
    path = course_copy / "grader_config.py"
    path.write_text(path.read_text().replace("c.CourseDirectory.root = ROOT", ""))
    with pytest.raises(ConfigError, match="must set c.CourseDirectory.root"):
        load_config(course_copy)


def test_broken_config_names_the_file(course_copy: Path):
    (course_copy / "grader_config.py").write_text("c = get_config()\nc.X = undefined_name\n")
    with pytest.raises(ConfigError, match="grader_config.py could not be loaded"):
        load_config(course_copy)


def test_no_course_folder_is_a_clear_error(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("PRIVACY_COURSE_ROOT", raising=False)
    with pytest.raises(ConfigError, match="No grader_config.py found"):
        find_course_root(tmp_path)


@pytest.mark.slow
def test_plain_nbgrader_in_the_course_folder_uses_grader_config(course_copy: Path):
    """nbgrader only reads nbgrader_config.py; the shim must hand it grader_config.py."""
    subfolder = course_copy / "source"
    result = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), "db", "student", "add", "learner-1",
         "--last-name=One", "--first-name=Learner"],
        cwd=course_copy, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (course_copy / "gradebook.db").exists()
    assert not (subfolder / "gradebook.db").exists()
    listed = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), "db", "student", "list"],
        cwd=course_copy, capture_output=True, text=True, timeout=120)
    assert "learner-1" in listed.stdout + listed.stderr
