"""Measure the memory one learner's server needs, for sizing a hub (deploy/README.md, "Sizing").

It starts a real learner Lab with `privacy-course start --no-browser --port P --workspace W`
(JUPYTER_TOKEN set), opens a module (m01 by default) through the server's REST API the way
JupyterLab does (POST /api/sessions, which starts the notebook's kernel), runs every code cell
over the kernel's websocket, answers every check, scenario and prompt through the widgets'
Python API (tests/learner.py's simulated learner), re-runs the work-product and progress cells,
and samples the memory of the whole process tree (launcher, Jupyter server, kernel) every 0.2 s.

    python deploy/measure_memory.py [--root COURSE] [--port 8899] [--module ID] [--json out.json]

It reports resident set size (RSS, what `ps` and `top` show), proportional set size (PSS: shared
library pages divided among the processes sharing them) and unique set size (USS), all in MiB,
idle (server only) and at the peak while the module runs. Only the Jupyter server and the kernel
count towards a learner on a hub; the `privacy-course` launcher process does not exist there.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import psutil

DEFAULT_MODULE = "m01-making-the-case"
MIB = 1024 * 1024


def tree_memory(root_pid: int, skip_root: bool) -> dict[str, float]:
    """RSS, PSS and USS (MiB) summed over a process and all its descendants."""
    try:
        top = psutil.Process(root_pid)
        procs = top.children(recursive=True) + ([] if skip_root else [top])
    except psutil.NoSuchProcess:
        return {"rss": 0.0, "pss": 0.0, "uss": 0.0, "processes": 0}
    total = {"rss": 0.0, "pss": 0.0, "uss": 0.0, "processes": 0}
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total["rss"] += info.rss / MIB
        total["pss"] += getattr(info, "pss", info.rss) / MIB
        total["uss"] += info.uss / MIB
        total["processes"] += 1
    return total


class Sampler(threading.Thread):
    """Keeps the peak of each measure while the module runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_learner = {"rss": 0.0, "pss": 0.0, "uss": 0.0}
        self.peak_tree = {"rss": 0.0, "pss": 0.0, "uss": 0.0}
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            for peak, skip in ((self.peak_learner, True), (self.peak_tree, False)):
                now = tree_memory(self.pid, skip_root=skip)
                for key in peak:
                    peak[key] = max(peak[key], now[key])
            time.sleep(0.2)


def api(port: int, token: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def wait_for_server(port: int, token: str, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the learner Lab exited with code {proc.returncode}")
        try:
            api(port, token, "GET", "/api/status")
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError("the learner Lab did not answer within 120 s")


async def execute_all(port: int, token: str, kernel_id: str, sources: list[str]) -> list[str]:
    """Run each source on the kernel over its websocket, as JupyterLab does; return errors."""
    from tornado.websocket import websocket_connect

    url = f"ws://127.0.0.1:{port}/api/kernels/{kernel_id}/channels?token={token}"
    conn = await websocket_connect(url)
    session = uuid.uuid4().hex
    errors = []
    for source in sources:
        msg_id = uuid.uuid4().hex
        await conn.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session,
                       "username": "learner", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": source, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        while True:
            raw = await asyncio.wait_for(conn.read_message(), timeout=300)
            if raw is None:
                raise RuntimeError("the kernel websocket closed")
            if isinstance(raw, bytes):
                continue
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")
            if msg["channel"] == "shell" and msg["msg_type"] == "execute_reply":
                break
    conn.close()
    return errors


def learner_sources(root: Path, workspace: Path, course_id: str, module: str) -> list[str]:
    """Every code cell of the learner's module, then the simulated learner's clicks and typing,
    then the work-product and progress cells again."""
    import nbformat

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests.learner import LEARNER_ACTIONS, answer_key

    notebook = workspace / course_id / module / f"{module}.ipynb"
    cells = [c.source for c in nbformat.read(notebook, as_version=4).cells
             if c.cell_type == "code"]
    key = answer_key(root / "source" / module / f"{module}.ipynb")
    text = "Our district will name a privacy lead and report to the board each term."
    actions = LEARNER_ACTIONS + f"\n_pc_learner(course, {key!r}, {text!r}, True, True)\n"
    again = [s for s in cells if "work_product(" in s or "progress(" in s]
    return cells + [actions] + again


def measure(root: Path, port: int, settle: float, module: str = DEFAULT_MODULE) -> dict:
    from privacy_course.config import load_config

    course_id = load_config(root).CourseDirectory.course_id
    work = Path(tempfile.mkdtemp(prefix="pc-memory-"))
    workspace = work / "learner"
    token = uuid.uuid4().hex
    # As on the hub, whose learner role keeps no spare kernel for module pages (a laptop's
    # `start` keeps one: about 170 MiB more, see deploy/README.md).
    env = dict(os.environ, JUPYTER_TOKEN=token, PRIVACY_COURSE_ROOT=str(root),
               PRIVACY_COURSE_SPARE_KERNELS=os.environ.get("PRIVACY_COURSE_SPARE_KERNELS", "0"))
    launcher = shutil.which("privacy-course", path=str(Path(sys.executable).parent)) \
        or shutil.which("privacy-course")
    proc = subprocess.Popen([launcher, "start", "--no-browser", "--port", str(port),
                             "--workspace", str(workspace)], env=env, cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        wait_for_server(port, token, proc)
        time.sleep(settle)
        idle = tree_memory(proc.pid, skip_root=True)
        sampler = Sampler(proc.pid)
        sampler.start()
        started = time.monotonic()
        session = api(port, token, "POST", "/api/sessions", {
            "path": f"{course_id}/{module}/{module}.ipynb", "type": "notebook",
            "name": f"{module}.ipynb", "kernel": {"name": "python3"}})
        errors = asyncio.run(execute_all(port, token, session["kernel"]["id"],
                                         learner_sources(root, workspace, course_id, module)))
        elapsed = time.monotonic() - started
        time.sleep(settle)
        after = tree_memory(proc.pid, skip_root=True)
        sampler.stopped.set()
        sampler.join()
        launcher_only = tree_memory(proc.pid, skip_root=False)["rss"] - tree_memory(
            proc.pid, skip_root=True)["rss"]
        done = any((workspace / course_id / module).glob("my-*.docx"))
        return {
            "module": module, "python": sys.version.split()[0],
            "idle_server": idle, "after_module": after,
            "peak_server_and_kernel": sampler.peak_learner,
            "peak_including_launcher": sampler.peak_tree,
            "launcher_rss": launcher_only, "run_seconds": round(elapsed, 1),
            "cell_errors": errors, "work_product_written": done,
        }
    finally:
        os.killpg(proc.pid, 15)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=None, help="course folder (default: found)")
    parser.add_argument("--port", type=int, default=8899)
    parser.add_argument("--module", default=DEFAULT_MODULE)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds to wait before reading")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    from privacy_course.config import find_course_root

    root = (args.root or find_course_root()).resolve()
    result = measure(root, args.port, args.settle, args.module)
    print(json.dumps(result, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 1 if result["cell_errors"] or not result["work_product_written"] else 0


if __name__ == "__main__":
    sys.exit(main())
