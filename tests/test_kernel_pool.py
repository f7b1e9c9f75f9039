"""Spare kernels for module pages (learner/kernel_pool.py), on a real course server: a page runs
in a warmed spare moved to its own folder, JupyterLab's kernels are started as before, spares
never show in the kernel list, and none outlives the server."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from .test_start import TOKEN, get, lab

pytestmark = pytest.mark.slow
MODULE = "m01-making-the-case"
READY = "A warmed kernel is ready for the next module page"


def wait_for_line(log: Path, text: str, count: int = 1, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.read_text(errors="replace").count(text) >= count:
            return
        time.sleep(0.3)
    raise AssertionError(f"{text!r} did not appear {count} time(s) in the server log:\n"
                         + log.read_text(errors="replace")[-3000:])


def kernels(base: str) -> list[dict]:
    status, body = get(f"{base}/api/kernels?token={TOKEN}")
    assert status == 200
    return json.loads(body)


def descendants(pid: int) -> set[int]:
    """Every process below `pid` (the server, and the kernels it started)."""
    table = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True,
                           check=True).stdout.split()
    children: dict[int, list[int]] = {}
    for child, parent in zip(table[::2], table[1::2], strict=True):
        children.setdefault(int(parent), []).append(int(child))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "\nState:\tZ" in status.read_text())


def test_a_page_runs_in_a_warmed_spare_in_its_own_folder_and_lab_is_unchanged(
        course_copy: Path, tmp_path: Path):
    log = tmp_path / "server.log"
    workspace = tmp_path / "learner"
    with lab(course_copy, f"--workspace={workspace}", log=log) as base:
        wait_for_line(log, READY)
        assert kernels(base) == []  # the spare is nobody's kernel yet, and is not listed

        status, page = get(f"{base}/voila/render/privacy-course/{MODULE}/{MODULE}.ipynb"
                           f"?token={TOKEN}")
        assert status == 200
        assert "Module page uses spare kernel" in log.read_text(errors="replace")
        # The module opened from its own folder (open_module reads the working folder): its
        # controls are on the page and no cell failed.
        assert "application/vnd.jupyter.widget-view+json" in page
        assert "There was an error when executing cell" not in page
        assert "Traceback" not in page
        [page_kernel] = kernels(base)

        # JupyterLab asks for a kernel without Voila's marker: it is started as before, while
        # the next spare is warming (it is not handed out, and not listed).
        request = urllib.request.Request(
            f"{base}/api/kernels", method="POST", data=json.dumps({"name": "python3"}).encode(),
            headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            lab_kernel = json.loads(response.read())
        wait_for_line(log, READY, count=2)
        assert {k["id"] for k in kernels(base)} == {page_kernel["id"], lab_kernel["id"]}
        assert log.read_text(errors="replace").count("Module page uses spare kernel") == 1

        # `privacy-course start` and the server it runs both carry the port on their command
        # line; the first is the parent of everything else.
        found = subprocess.run(["pgrep", "-f", "--", f"--port={base.rsplit(':', 1)[1]}"],
                               capture_output=True, text=True).stdout.split()
        started = descendants(min(int(pid) for pid in found))
        # the server, the page's kernel, Lab's kernel and the spare, at least
        assert len(started) >= 3
    assert not [pid for pid in started if alive(pid)], "a kernel outlived the server"
