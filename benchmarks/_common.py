"""What every benchmark shares: the environment, timing of child processes (wall time and peak
memory), the floor of one notebook (a bare kernel running one cell), the plain nbgrader
configuration stock nbgrader runs with, and the one-line result every script ends with.

Every figure a script prints is measured side by side with a peer in the same run, because the
machine is shared and noisy: only the ratio between the two is meant to be compared across runs.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

# The tests' helpers (simulated learner, course copies, throw-away PostgreSQL) are imported from
# tests/, and nbgrader's gradebook runs the `alembic` program it finds first on PATH.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ["PATH"] = str(BIN) + os.pathsep + os.environ.get("PATH", "")
os.environ.pop("PRIVACY_COURSE_ROOT", None)
os.environ.pop("PRIVACY_COURSE_COHORT", None)


def tool(name: str) -> str:
    """A console script of this environment (privacy-course, nbgrader, jupyter)."""
    return str(BIN / name)


@dataclass
class Run:
    seconds: float
    returncode: int
    maxrss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None,
              timeout: float | None = None) -> Run:
    """Run a command; its wall time and the peak resident memory of the process itself
    (os.wait4 gives the rusage of that one child, not of every child so far)."""
    out_path = Path(cwd) / f".bench-out-{os.getpid()}-{time.monotonic_ns()}"
    err_path = out_path.with_suffix(".err")
    with out_path.open("w") as out, err_path.open("w") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        deadline = None if timeout is None else start + timeout
        timed_out = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                timed_out = True
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout, stderr = out_path.read_text(errors="replace"), err_path.read_text(errors="replace")
    out_path.unlink()
    err_path.unlink()
    return Run(seconds, proc.returncode, usage.ru_maxrss / 1024, stdout, stderr, timed_out)


def kernel_floor(repeat: int = 3) -> float:
    """The floor of one notebook: start a kernel, run one cell, shut it down (jupyter_client).
    The median of `repeat` measurements, in seconds."""
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        km, kc = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
        try:
            reply = kc.execute_interactive("1 + 1", timeout=60,
                                           output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok"
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plain_nbgrader_config(folder: Path, course_root: Path, course_id: str, db_url: str,
                          modules: list[str]) -> Path:
    """A plain nbgrader_config.py for stock nbgrader, pointing at a cohort's folders (the same
    settings Cohort.config sets: root, course id, source and release trees, gradebook), plus
    the per-cell timeout and the rule that a learner's responses file is never overwritten
    from source/. Stock nbgrader's own preprocessors and kernel: no sandbox, no re-scoring."""
    exclude = {m: [f"{m}.responses.json"] for m in modules}
    text = (
        "c = get_config()  # noqa\n"
        f"c.CourseDirectory.root = {str(folder)!r}\n"
        f"c.CourseDirectory.course_id = {course_id!r}\n"
        f"c.CourseDirectory.source_directory = {str(course_root / 'source')!r}\n"
        f"c.CourseDirectory.release_directory = {str(course_root / 'release')!r}\n"
        f"c.CourseDirectory.db_url = {db_url!r}\n"
        f"c.Exchange.root = {str(course_root / '.exchange')!r}\n"
        "c.Exchange.path_includes_course = True\n"
        "c.Execute.timeout = 60\n"
        f"c.Autograde.exclude_overwriting = {exclude!r}\n"
    )
    path = folder / "nbgrader_config.py"
    path.write_text(text, encoding="utf-8")
    return path


def write_roster(path: Path, n: int, prefix: str = "learner") -> list[str]:
    ids = [f"{prefix}{i:05d}" for i in range(1, n + 1)]
    lines = ["id,first_name,last_name,email"]
    lines += [f"{i},First{i[-5:]},Last{i[-5:]},{i}@district.example.org" for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


BYTECODE_PACKAGES = ("ipykernel", "IPython", "ipywidgets", "jupyter_client", "nbgrader", "numpy",
                     "pandas", "zmq")


def bytecode_missing() -> list[str]:
    """Packages the kernels and graders import whose modules have no compiled bytecode.

    Why it matters: such an environment (for example one whose files were copied without
    their __pycache__ folders, run with PYTHONDONTWRITEBYTECODE=1) recompiles every module at
    every import. On the machine in BENCHMARKS.md that tripled a bare kernel's start-up and
    made `import pandas` take 1.0 s instead of 0.2 s, which distorts every ratio here. pip
    compiles bytecode when it installs, so README's set-up command gives a sound environment."""
    import importlib.util

    missing = []
    for name in BYTECODE_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            continue
        cached = importlib.util.cache_from_source(spec.origin)
        if not Path(cached).exists():
            missing.append(name)
    return missing


def machine() -> str:
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    text = (f"machine: {os.cpu_count()} cores, {mem} memory, Python {platform.python_version()}, "
            f"load average {os.getloadavg()[0]:.2f}")
    missing = bytecode_missing()
    if missing:
        text += ("\nWARNING: no compiled bytecode for " + ", ".join(missing) + ": every import "
                 "recompiles them, so these figures do not represent a normal install (run "
                 "`python -m compileall -q <site-packages>` or reinstall with pip)")
    return text


def final(ratio: float, target: float) -> None:
    """The last line of every benchmark."""
    print(f"ratio={ratio:.3f} target={target:g}", flush=True)
