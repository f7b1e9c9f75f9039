"""`privacy-course start`: a learner's JupyterLab answers on /lab with the modules in it, has the
learner's nbgrader tools but not the facilitator's, and never overwrites a learner's work."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from privacy_course.authoring.build import module_ids
from privacy_course.start import prepare_workspace

pytestmark = pytest.mark.slow
TOKEN = "test-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@contextmanager
def lab(course: Path, *args: str, log: Path | None = None) -> Iterator[str]:
    """Run `privacy-course start ARGS` and yield its base URL once /lab answers; the server's
    output goes to `log` when one is given."""
    port = free_port()
    env = {**os.environ, "JUPYTER_TOKEN": TOKEN}
    out = open(log, "wb") if log else subprocess.PIPE  # noqa: SIM115 (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "privacy_course.cli", "start", "--no-browser", f"--port={port}",
         *args], cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, _page = get(f"{base}/lab?token={TOKEN}")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert status == 200, (proc.stdout.read1().decode() if proc.stdout
                               else log.read_text(errors="replace") if log else "")
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        if log:
            out.close()


def page_config(base: str) -> dict:
    _status, page = get(f"{base}/lab?token={TOKEN}")
    return json.loads(page.split('id="jupyter-config-data"')[1].split(">", 1)[1]
                      .split("</script>")[0])


def test_start_serves_the_course_on_lab(course_copy: Path, tmp_path: Path):
    with lab(course_copy, f"--workspace={tmp_path / 'learner'}") as base:
        config = page_config(base)
        for tool in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"):
            assert tool in config["disabledExtensions"]
            assert tool in config["lockedExtensions"]  # the learner cannot turn them back on
        assert get(f"{base}/formgrader?token={TOKEN}")[0] == 404
        for module_id in module_ids(course_copy):
            status, body = get(f"{base}/api/contents/privacy-course/{module_id}?token={TOKEN}")
            assert status == 200
            names = {item["name"] for item in json.loads(body)["content"]}
            assert f"{module_id}.ipynb" in names
        status, body = get(f"{base}/assignments?course_id=privacy-course&token={TOKEN}")
        assert status == 200 and json.loads(body)["success"], body


def test_facilitator_lab_has_the_instructor_tools(tmp_path: Path):
    from privacy_course.facilitator.cohort import create_cohort

    from .conftest import copy_course

    course = copy_course(tmp_path / "course", ["m01-making-the-case"])
    (tmp_path / "roster.csv").write_text("id,first_name,last_name,email\n"
                                         "alice,Alice,Adams,alice@example.org\n")
    create_cohort(course, "spring", tmp_path / "roster.csv")
    with lab(course, "--facilitator", "--cohort=spring") as base:
        config = page_config(base)
        assert "@jupyter/nbgrader:formgrader" not in config.get("disabledExtensions", [])
        status, page = get(f"{base}/formgrader?token={TOKEN}")
        assert status == 200
        status, body = get(f"{base}/formgrader/api/assignments?token={TOKEN}")
        assert status == 200
        assert "m01-making-the-case" in body  # this cohort's gradebook


def test_start_never_overwrites_learner_work(course_copy: Path, tmp_path: Path):
    workspace, _env = prepare_workspace(course_copy, tmp_path / "learner")
    module_id = module_ids(course_copy)[0]
    mine = workspace / "privacy-course" / module_id / f"{module_id}.ipynb"
    mine.write_text(mine.read_text().replace("Module", "My edited Module", 1))
    prepare_workspace(course_copy, tmp_path / "learner")
    assert "My edited Module" in mine.read_text()


def test_start_for_a_cohort_learner_fetches_only_released_modules(tmp_path: Path):
    from privacy_course.facilitator.cohort import create_cohort, release

    from .conftest import copy_course

    module_id = "m01-making-the-case"
    course = copy_course(tmp_path / "course", [module_id])
    (tmp_path / "roster.csv").write_text("id,first_name,last_name,email\n"
                                         "alice,Alice,Adams,alice@example.org\n")
    cohort = create_cohort(course, "spring", tmp_path / "roster.csv")
    workspace, _env = prepare_workspace(course, tmp_path / "alice", "spring", "alice")
    assert not (workspace / "spring" / module_id).exists()  # nothing released yet
    release(cohort, module_id)
    workspace, env = prepare_workspace(course, tmp_path / "alice", "spring", "alice")
    assert (workspace / "spring" / module_id / f"{module_id}.ipynb").is_file()
    learner_config = (Path(env["JUPYTER_CONFIG_DIR"]) / "nbgrader_config.py").read_text()
    assert "c.CourseDirectory.course_id = 'spring'" in learner_config
    assert "c.CourseDirectory.student_id = 'alice'" in learner_config


def test_stopping_start_with_sigterm_stops_its_server(course_copy: Path, tmp_path: Path):
    """A service manager (or `kill`) stops `privacy-course start` with SIGTERM to it alone: its
    JupyterLab must stop too, not run on orphaned."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "privacy_course.cli", "start", "--no-browser", f"--port={port}",
         f"--workspace={tmp_path / 'learner'}"], cwd=course_copy,
        env={**os.environ, "JUPYTER_TOKEN": TOKEN}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if get(f"{base}/lab?token={TOKEN}")[0] == 200:
                    break
            except OSError:
                time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)  # to the command only, not its process group
        proc.wait(timeout=60)
        deadline = time.monotonic() + 30
        answering = True
        while answering and time.monotonic() < deadline:
            try:
                get(f"{base}/lab?token={TOKEN}")
                time.sleep(0.5)
            except OSError:
                answering = False
        assert not answering, "JupyterLab still answers after `start` was stopped"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
