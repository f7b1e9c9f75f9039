"""The whole content check CI runs, timed sequentially and in parallel in the same run:

- `privacy-course build --check` (committed source/ and release/ are up to date);
- nbgrader's Validator over every source notebook (every test passes) and, inverted, over every
  release notebook (every test fails);
- nbval --nbval-lax over every source and release notebook;

all in scratch copies. Parallel: one lane per core (a thread per lane starting the same
commands as subprocesses, over chunks of the modules; pytest-xdist is not installed here).
Target: the parallel check under 180 s; last line `ratio=<parallel seconds / 180> target=1`.

    python benchmarks/content_ci.py
    python benchmarks/content_ci.py --modules m01-making-the-case
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import _common  # noqa: F401  (environment)
from _common import ROOT, final, machine, run_timed, tool

BUDGET = 180.0


def validate(kind: str, modules: list[str]) -> int:
    """Child mode: Validator over source (must pass) or, inverted, release (must fail)."""
    from nbgrader.validator import Validator

    scratch = Path(tempfile.mkdtemp(prefix=f"bench-validate-{kind}-"))
    failures = 0
    try:
        for module_id in modules:
            work = scratch / module_id
            shutil.copytree(ROOT / kind / module_id, work)
            result = Validator(invert=kind == "release").validate(str(work / f"{module_id}.ipynb"))
            if result != {}:
                print(f"{kind}/{module_id}: {result}")
                failures += 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failures else 0


def commands(modules: list[str], chunks: int, scratch: Path) -> list[tuple[str, list[str], Path]]:
    """The check as (label, command, cwd), split into `chunks` parts per kind of step."""
    me = str(Path(__file__).resolve())
    parts = [modules[i::chunks] for i in range(chunks)]
    parts = [p for p in parts if p]
    out = [("build --check", [tool("privacy-course"), "build", "--check"], ROOT)]
    for i, part in enumerate(parts):
        out.append((f"validate source+release [{i}]",
                    [sys.executable, me, "--child-validate", *part], ROOT))
    for i, part in enumerate(parts):
        work = scratch / f"nbval-{i}"
        paths = []
        for kind in ("source", "release"):
            for module_id in part:
                shutil.copytree(ROOT / kind / module_id, work / kind / module_id)
                paths.append(str(work / kind / module_id))
        out.append((f"nbval --nbval-lax [{i}]",
                    [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p",
                     "no:cacheprovider", "--rootdir", str(work), *paths], work))
    return out


def run_all(steps: list[tuple[str, list[str], Path]], lanes: int) -> tuple[float, dict]:
    def one(step):
        label, cmd, cwd = step
        run = run_timed(cmd, cwd=cwd)
        if run.returncode != 0:
            raise SystemExit(f"{label} failed ({run.returncode}):\n{run.stdout[-3000:]}"
                             f"\n{run.stderr[-2000:]}")
        return label, run.seconds

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=lanes) as pool:
        times = dict(pool.map(one, steps))
    return time.perf_counter() - start, times


def main() -> None:
    from privacy_course.authoring.build import module_ids

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", nargs="+", default=None, help="module ids (default: all)")
    parser.add_argument("--lanes", type=int, default=os.cpu_count() or 1,
                        help="parallel lanes (default: cores)")
    parser.add_argument("--child-validate", nargs="+", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_validate:
        code = validate("source", args.child_validate)
        sys.exit(code or validate("release", args.child_validate))
    modules = args.modules or module_ids(ROOT)
    print(machine())
    print(f"modules: {len(modules)}; parallel lanes: {args.lanes}")
    scratch = Path(tempfile.mkdtemp(prefix="bench-content-"))
    try:
        seq_total, seq = run_all(commands(modules, 1, scratch / "seq"), 1)
        par_total, par = run_all(commands(modules, args.lanes, scratch / "par"), args.lanes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print("\nsequential:")
    for label, seconds in seq.items():
        print(f"  {label:<32} {seconds:7.1f} s")
    print(f"  {'total':<32} {seq_total:7.1f} s")
    print(f"parallel ({args.lanes} lanes):")
    for label, seconds in par.items():
        print(f"  {label:<32} {seconds:7.1f} s")
    print(f"  {'wall':<32} {par_total:7.1f} s")
    print(f"speed-up parallel vs sequential: {seq_total / par_total:.2f}x; "
          f"parallel/sequential = {par_total / seq_total:.3f}")
    print(f"budget {BUDGET:.0f} s: parallel {'within' if par_total <= BUDGET else 'OVER'}, "
          f"sequential {'within' if seq_total <= BUDGET else 'OVER'}")
    final(par_total / BUDGET, 1)


if __name__ == "__main__":
    main()
