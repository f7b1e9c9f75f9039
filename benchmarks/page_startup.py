"""How long a module page takes from opening its URL to its first control being usable.

For each module: open `/voila/render/<module>.ipynb` in headless chromium (Debian's chromium,
through Playwright) on a server started by `privacy-course start`, and time until the first
course control (a scenario's choice button) is visible and enabled. Median of 3 per module, in a
fresh browser (cold: nothing cached) and in one kept browser that opened the course home first
(cached: a learner's own browser), each opening after a pause as a learner's would (the server
warms a spare kernel for the next page meanwhile). Against the bare-kernel floor (start a
kernel, run one cell, shut it down), measured beside each module in the same run. Target: at
most 2.5 times the floor for every module. Prints figures and ratios; it asserts nothing
(timings belong in a benchmark, not in a test).

    python benchmarks/page_startup.py [--repeat 3] [--pause 6] [module ids...]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import kernel_floor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "benchmark"
TARGET = 2.5
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(course: Path, workspace: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "privacy_course.cli", "start", "--no-browser", f"--port={port}",
         f"--workspace={workspace}"], cwd=course, env={**os.environ, "JUPYTER_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/privacy-course/?token={TOKEN}", timeout=5):
                return proc, base
        except OSError:
            time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("the course server did not start")


def time_page(context, url: str) -> float:
    """Seconds from asking for `url` to its first choice button being visible and enabled, in
    a browser context (a fresh one is a first visit; a kept one has the learner's cache)."""
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(url, wait_until="commit")
        control = page.locator(".pc-choice").first
        control.wait_for(state="visible", timeout=120_000)
        page.wait_for_function("el => !el.disabled", arg=control.element_handle())
        return time.perf_counter() - start
    finally:
        page.close()


def main() -> int:
    from playwright.sync_api import sync_playwright

    from privacy_course.authoring.build import module_ids

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pause", type=float, default=6.0, help=(
        "seconds to wait before each opening, as a learner does between modules (the server "
        "warms a spare kernel for the next page meanwhile)"))
    parser.add_argument("modules", nargs="*", help="module ids (default: all)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "course"
        course.mkdir()
        for name in ("grader_config.py", "nbgrader_config.py"):
            shutil.copy2(ROOT / name, course / name)
        for name in ("modules", "source", "release"):
            shutil.copytree(ROOT / name, course / name)
        proc, base = start_server(course, Path(tmp) / "learner")
        try:
            # The floor is measured again beside each module (the machine is shared: its load
            # drifts within a run), and each module's ratios use the floor of its own slot.
            print(f"{'module':28} {'floor s':>8} {'cold s':>7} {'ratio':>6} {'cached s':>9}"
                  f" {'ratio':>6}  target <= {TARGET}x")
            worst = {"cold": 0.0, "cached": 0.0}
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=os.environ.get("PRIVACY_COURSE_CHROMIUM",
                                                   "/usr/bin/chromium"), args=CHROMIUM_ARGS)
                # A learner's browser: it opened the course home first and keeps its cache.
                learner = browser.new_context()
                home = learner.new_page()
                home.goto(f"{base}/privacy-course/?token={TOKEN}")
                home.close()
                for module_id in args.modules or module_ids(course):
                    url = (f"{base}/voila/render/privacy-course/{module_id}/{module_id}.ipynb"
                           f"?token={TOKEN}")
                    floor = kernel_floor(args.repeat)
                    medians = {}
                    for kind in ("cold", "cached"):
                        times = []
                        for _ in range(args.repeat):
                            time.sleep(args.pause)
                            if kind == "cold":  # a browser that has never seen a page
                                context = browser.new_context()
                                times.append(time_page(context, url))
                                context.close()
                            else:
                                times.append(time_page(learner, url))
                        medians[kind] = statistics.median(times)
                        worst[kind] = max(worst[kind], medians[kind] / floor)
                    print(f"{module_id:28} {floor:8.2f} {medians['cold']:7.2f}"
                          f" {medians['cold'] / floor:6.2f}"
                          f" {medians['cached']:9.2f} {medians['cached'] / floor:6.2f}  "
                          + ("ok" if medians["cached"] / floor <= TARGET else "OVER"))
                learner.close()
                browser.close()
            print(f"worst ratio: cold {worst['cold']:.2f}x, cached {worst['cached']:.2f}x "
                  f"(target {TARGET}x)")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
