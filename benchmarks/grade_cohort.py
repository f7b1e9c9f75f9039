"""Grading a whole cohort: `privacy-course grade --all` against stock `nbgrader autograde`.

A seeded generator makes a synthetic cohort of N learners x modules with a realistic mix of
submissions (correct, partial, blank, and a few damaged ones: invalid JSON). Each module's
simulated learner runs ONCE per behaviour (correct, partial) in a real kernel; the resulting
folders are copied for the N learners. The course folder is then copied, and the two copies are
graded side by side in the same run:

- ours: `privacy-course grade --all` (a subprocess, default workers: one per core, sandboxed);
- stock: `nbgrader autograde <module>`, one command per module, in the copy's cohort folder with
  a plain nbgrader_config.py pointing at that cohort's folders (no sandbox).

The scores must be identical per learner and module. Printed: seconds per notebook for both,
the floor (kernel start, one cell, shutdown) and the ratio ours / stock (target <= 0.5 at N=30).

    python benchmarks/grade_cohort.py                       # N=30, all modules
    python benchmarks/grade_cohort.py --learners 2 --modules m01-making-the-case
    python benchmarks/grade_cohort.py --scale               # N = 10, 30, 100: a table
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import _common
from _common import ROOT, final, kernel_floor, machine, plain_nbgrader_config, run_timed, tool

SEED = 20270115
MIX = (("correct", 0.55), ("partial", 0.25), ("blank", 0.15), ("bad", 0.05))
COHORT = "bench"


def all_modules() -> list[str]:
    from privacy_course.authoring.build import module_ids

    return module_ids(ROOT)


def make_behaviours(module_id: str, scratch: str) -> dict[str, str]:
    """Run the module's simulated learners once per behaviour; return {behaviour: folder}."""
    from tests.learner import answer_key, run_module, type_solutions

    scratch_path = Path(scratch)
    source_nb = ROOT / "source" / module_id / f"{module_id}.ipynb"
    key = answer_key(source_nb)
    rng = random.Random(f"{SEED}-{module_id}")
    singles = sorted(c for c, v in key.items() if isinstance(v, str))
    partly = dict(key)
    for check_id in rng.sample(singles, min(3, len(singles))):  # three wrong: below the pass mark
        partly[check_id] = "a" if key[check_id] != "a" else "b"
    folders = {}
    for behaviour, answers in (("correct", key), ("partial", partly), ("blank", None)):
        folder = scratch_path / module_id / behaviour
        shutil.copytree(ROOT / "release" / module_id, folder)
        if answers is not None:
            type_solutions(folder / f"{module_id}.ipynb", source_nb)
            run_module(folder / f"{module_id}.ipynb", answers=answers)
        folders[behaviour] = str(folder)
    bad = scratch_path / module_id / "bad"
    shutil.copytree(folders["correct"], bad)
    (bad / f"{module_id}.ipynb").write_text('{"cells": [', encoding="utf-8")  # damaged file
    folders["bad"] = str(bad)
    return folders


def behaviours_for(modules: list[str], scratch: Path) -> dict[str, dict[str, str]]:
    with ProcessPoolExecutor(max_workers=2) as pool:
        futures = {m: pool.submit(make_behaviours, m, str(scratch)) for m in modules}
        return {m: f.result() for m, f in futures.items()}


def assign(learners: list[str], modules: list[str]) -> dict[tuple[str, str], str]:
    """A seeded behaviour for every learner and module."""
    rng = random.Random(SEED)
    names, weights = zip(*MIX, strict=True)
    plan = {}
    for learner in learners:
        for module_id in modules:
            plan[(learner, module_id)] = rng.choices(names, weights)[0]
    # At least one of each behaviour whenever there are enough submissions to show it: a
    # missing one replaces a submission of the most common behaviour.
    if len(plan) >= len(names):
        for name in names:
            if name in plan.values():
                continue
            common = max(names, key=lambda b: sum(1 for v in plan.values() if v == b))
            cell = rng.choice(sorted(k for k, v in plan.items() if v == common))
            plan[cell] = name
    return plan


def build_cohort(work: Path, n: int, modules: list[str],
                 behaviours: dict[str, dict[str, str]]) -> tuple[Path, dict]:
    from privacy_course.facilitator.cohort import create_cohort
    from tests.conftest import copy_course
    from tests.grading_helpers import submit_folder

    course = copy_course(work / "ours", modules)
    learners = _common.write_roster(work / "roster.csv", n)
    cohort = create_cohort(course, COHORT, work / "roster.csv")
    plan = assign(learners, modules)
    for (learner, module_id), behaviour in plan.items():
        submit_folder(cohort.folder, learner, module_id, Path(behaviours[module_id][behaviour]))
    return course, plan


def scores(course: Path, modules: list[str]) -> dict[tuple[str, str], tuple[float, float]]:
    from nbgrader.api import Gradebook

    from privacy_course.facilitator.cohort import db_url_for

    out = {}
    with Gradebook(db_url_for(course, COHORT), COHORT) as gb:
        for module_id in modules:
            for d in gb.submission_dicts(module_id):
                out[(d["student"], module_id)] = (d["score"], d["max_score"])
    return out


def measure(n: int, modules: list[str], behaviours: dict, work: Path) -> dict:
    from privacy_course.facilitator.cohort import db_url_for

    work.mkdir(parents=True)
    course, plan = build_cohort(work, n, modules, behaviours)
    stock = work / "stock"
    shutil.copytree(course, stock)
    stock_cohort = stock / "cohorts" / COHORT
    plain_nbgrader_config(stock_cohort, stock, COHORT, db_url_for(stock, COHORT), modules)

    floor_before = kernel_floor(3)
    ours = run_timed([tool("privacy-course"), "grade", "--all", "--cohort", COHORT], cwd=course)
    stock_seconds = 0.0
    stock_codes = []
    for module_id in modules:
        run = run_timed([tool("nbgrader"), "autograde", module_id], cwd=stock_cohort)
        stock_seconds += run.seconds
        stock_codes.append(run.returncode)
        if run.returncode not in (0, 1):
            sys.exit(f"stock nbgrader autograde {module_id} failed:\n{run.stderr[-3000:]}")
    floor_after = kernel_floor(3)
    if ours.returncode not in (0, 1):
        sys.exit(f"privacy-course grade failed ({ours.returncode}):\n{ours.stderr[-3000:]}")

    ours_scores, stock_scores = scores(course, modules), scores(stock, modules)
    differ = {k: (ours_scores.get(k), stock_scores.get(k))
              for k in sorted(set(ours_scores) | set(stock_scores))
              if ours_scores.get(k) != stock_scores.get(k)}
    if differ:
        for (learner, module_id), (a, b) in list(differ.items())[:20]:
            print(f"  DIFFERENT: {learner} {module_id} ({plan[(learner, module_id)]}): "
                  f"ours {a}, stock {b}")
        sys.exit(f"scores differ for {len(differ)} submission(s)")
    counts = {name: sum(1 for b in plan.values() if b == name) for name, _ in MIX}
    notebooks = len(plan)
    return {"n": n, "notebooks": notebooks, "mix": counts, "ours": ours.seconds,
            "stock": stock_seconds, "floor": (floor_before + floor_after) / 2,
            "ours_rss": ours.maxrss_mb, "compared": len(ours_scores)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=30, help="learners in the cohort (N)")
    parser.add_argument("--modules", nargs="+", default=None, help="module ids (default: all)")
    parser.add_argument("--scale", action="store_true", help="run N = 10, 30, 100")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    modules = args.modules or all_modules()
    sizes = [10, 30, 100] if args.scale else [args.learners]
    print(machine())
    print(f"modules: {len(modules)} ({', '.join(modules)}); seed {SEED}")
    scratch = Path(tempfile.mkdtemp(prefix="bench-grade-"))
    try:
        behaviours = behaviours_for(modules, scratch / "behaviours")
        results = []
        for n in sizes:
            r = measure(n, modules, behaviours, scratch / f"n{n}")
            results.append(r)
            nb = r["notebooks"]
            print(f"\nN={n}: {nb} notebooks, mix {r['mix']}; scores identical for "
                  f"{r['compared']} submissions")
            print(f"  privacy-course grade --all : {r['ours']:8.1f} s  "
                  f"{r['ours'] / nb:6.2f} s/notebook  (peak memory {r['ours_rss']:.0f} MB)")
            print(f"  nbgrader autograde x{len(modules):<3}   : {r['stock']:8.1f} s  "
                  f"{r['stock'] / nb:6.2f} s/notebook")
            print(f"  floor (kernel, 1 cell)     :            {r['floor']:6.2f} s/notebook")
            print(f"  ratio ours/stock           : {r['ours'] / r['stock']:.3f}")
        if len(results) > 1:
            print("\n   N  notebooks   ours s  stock s  ours s/nb  stock s/nb  floor s  ratio")
            for r in results:
                nb = r["notebooks"]
                print(f"{r['n']:4d}  {nb:9d}  {r['ours']:7.1f}  {r['stock']:7.1f}  "
                      f"{r['ours'] / nb:9.2f}  {r['stock'] / nb:10.2f}  {r['floor']:7.2f}  "
                      f"{r['ours'] / r['stock']:5.3f}")
        chosen = next((r for r in results if r["n"] == 30), results[-1])
        final(chosen["ours"] / chosen["stock"], 0.5)
    finally:
        if args.keep:
            print(f"kept {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
