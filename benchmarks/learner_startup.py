"""A learner's "Run All": from a fresh kernel to every cell of a module's release notebook run
(nbclient, in a scratch copy), against the floor of a bare kernel running one cell, measured
right before and after each module. Ratio per module; the largest is the figure (target 2.5).

Second figure: what importing the package costs beyond ipywidgets (`python -X importtime`):
the imports a module notebook makes (privacy_course, its widgets and module helpers, which
import ipywidgets themselves) against `import ipywidgets` alone. Target: <= 0.2 s more.

    python benchmarks/learner_startup.py
    python benchmarks/learner_startup.py --modules m01-making-the-case --repeat 1
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401  (environment)
from _common import ROOT, final, kernel_floor, machine

PACKAGE_IMPORTS = ("import ipywidgets; import privacy_course; "
                   "import privacy_course.learner.module; "
                   "import privacy_course.learner.widgets")
BASE_IMPORTS = "import ipywidgets"


def run_all(module_id: str, scratch: Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    folder = scratch / module_id
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(ROOT / "release" / module_id, folder)
    nb = nbformat.read(folder / f"{module_id}.ipynb", as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return time.perf_counter() - start


def import_seconds(statement: str) -> float:
    """Total of the top-level cumulative import times `python -X importtime` reports."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", statement],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    total = 0
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|", 2)
        if not name.startswith("  "):  # one space after the bar: imported at top level
            total += int(cumulative)
    return total / 1e6


def main() -> None:
    from privacy_course.authoring.build import module_ids

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", nargs="+", default=None, help="module ids (default: all)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per module (the median is kept)")
    parser.add_argument("--import-repeat", type=int, default=5,
                        help="interleaved importtime runs (the median is kept)")
    args = parser.parse_args()
    modules = args.modules or module_ids(ROOT)
    print(machine())
    scratch = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    ratios = {}
    try:
        print(f"{'module':<26} {'run all s':>9} {'floor s':>8} {'ratio':>6}")
        for module_id in modules:
            runs, floors = [], [kernel_floor(1)]
            for _ in range(args.repeat):
                runs.append(run_all(module_id, scratch))
                floors.append(kernel_floor(1))
            run, floor = statistics.median(runs), statistics.median(floors)
            ratios[module_id] = run / floor
            print(f"{module_id:<26} {run:9.2f} {floor:8.2f} {run / floor:6.2f}", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    base, package = [], []
    for _ in range(args.import_repeat):
        base.append(import_seconds(BASE_IMPORTS))
        package.append(import_seconds(PACKAGE_IMPORTS))
    base_s, package_s = statistics.median(base), statistics.median(package)
    extra = package_s - base_s
    print(f"\nimport ipywidgets: {base_s:.3f} s; with the package ({PACKAGE_IMPORTS!r}): "
          f"{package_s:.3f} s")
    print(f"import cost the package adds beyond ipywidgets: {extra:.3f} s (target <= 0.2 s): "
          f"{'met' if extra <= 0.2 else 'NOT met'}")
    worst = max(ratios, key=ratios.get)
    print(f"largest run-all/floor ratio: {ratios[worst]:.2f} ({worst}); target 2.5")
    final(ratios[worst], 2.5)


if __name__ == "__main__":
    main()
