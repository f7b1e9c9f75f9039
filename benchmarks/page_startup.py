"""How long a module page takes from opening its URL to its first control being usable.

For each module: open `/voila/render/<module>.ipynb` in headless chromium (Debian's chromium,
through Playwright) on a server started by `privacy-course start`, and time until the first
course control (a scenario's choice button) is visible and enabled. Median of 3 per module,
against the bare-kernel floor measured in the same run (start a kernel, run one cell, shut it
down). Target: at most 2.5 times the floor for every module. Prints figures and ratios; it
asserts nothing (timings belong in a benchmark, not in a test).

    python benchmarks/page_startup.py [--repeat 3] [module ids...]
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


def time_page(browser, url: str) -> float:
    page = browser.new_page()
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
            floor = kernel_floor(args.repeat)
            print(f"bare-kernel floor (median of {args.repeat}): {floor:.2f} s")
            print(f"{'module':28} {'median s':>9} {'ratio':>6}  target <= {TARGET}x")
            worst = 0.0
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=os.environ.get("PRIVACY_COURSE_CHROMIUM",
                                                   "/usr/bin/chromium"), args=CHROMIUM_ARGS)
                for module_id in args.modules or module_ids(course):
                    url = (f"{base}/voila/render/privacy-course/{module_id}/{module_id}.ipynb"
                           f"?token={TOKEN}")
                    times = [time_page(browser, url) for _ in range(args.repeat)]
                    median = statistics.median(times)
                    ratio = median / floor
                    worst = max(worst, ratio)
                    print(f"{module_id:28} {median:9.2f} {ratio:6.2f}"
                          f"  {'ok' if ratio <= TARGET else 'OVER'}")
                browser.close()
            print(f"worst ratio: {worst:.2f}x (target {TARGET}x)")
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
