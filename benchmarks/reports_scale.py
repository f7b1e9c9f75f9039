"""Reports at scale: `privacy-course report` (item analysis included), `privacy-course status`
and the item analysis alone (`privacy-course report --all-cohorts`, here over the one cohort)
against stock `nbgrader export`, on the same gradebook of 5,000 learners x 8 modules (SQLite,
or PostgreSQL with --postgres).

The gradebook is made by `create_cohort` (small roster, so every module is entered by nbgrader
with its real graded cells), then filled with bulk inserts through nbgrader's own ORM tables:
learners, submissions, submitted notebooks, a grade per graded cell and a comment per solution
or task cell, as autograde writes them. Each graded submission also gets its responses file, which
completion and the item analysis read: the options clicked for each keyed check (the key where
the grade says right, a random wrong answer otherwise; none for a blank submission) and a
random play of each scenario (to an ending, or part of the way when unfinished). A seeded
mix: 10% did not submit; of the rest, most pass, some are partial or blank.

Printed: wall time and peak memory (ru_maxrss of each child process) of each command, and the
ratio ours/stock; the last line's ratio is the largest of report/export, status/export and
item analysis/export (target <= 0.25).

    python benchmarks/reports_scale.py                # 5,000 learners, SQLite
    python benchmarks/reports_scale.py --learners 200 --postgres
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import _common
from _common import ROOT, final, machine, plain_nbgrader_config, run_timed, tool

SEED = 5000
COHORT = "bench"


def _id() -> str:
    return uuid.uuid4().hex


def _answer(rng: random.Random, keyed: Any, content: Any, right: bool) -> Any:
    """What a learner clicked for a keyed check: the key when the grade says right, else a
    plausible wrong answer (so the item analysis has real distributions to count)."""
    if keyed.kind == "classification":
        categories = [c["id"] for c in content.exercises[keyed.check]["categories"]]
        answer = dict(keyed.key)
        if not right:
            item = rng.choice(sorted(answer))
            answer[item] = rng.choice([c for c in categories if c != answer[item]])
        return answer
    options = [o["id"] for o in content.checks[keyed.check]["options"]]
    if keyed.kind == "single":
        return keyed.key if right else rng.choice([o for o in options if o != keyed.key])
    ticked = set(keyed.key)
    if not right:
        ticked ^= {rng.choice(options)}
    return sorted(ticked)


def _play(rng: random.Random, scenario: dict[str, Any], finished: bool) -> dict[str, Any]:
    """A recorded play of a scenario: random choices from the first step to an ending (or part
    of the way when unfinished), in the responses store's format."""
    from privacy_course.authoring.scenario_graph import ending_reached, steps_by_id

    steps = steps_by_id(scenario)
    trail: list[dict[str, str]] = []
    step = steps[scenario["steps"][0]["id"]]
    for _ in range(12 if finished else rng.randrange(1, 3)):
        choice = rng.choice(step["choices"])
        trail.append({"step": step["id"], "choice": choice["id"], "continued": True})
        ending = ending_reached(scenario, trail)
        if ending is not None:
            return {"trail": trail, "finished": True, "ending": ending, "facts": {}}
        step = steps[choice["next"]]
    return {"trail": trail, "finished": False, "facts": {}}


def fill_gradebook(course: Path, learners: list[str], modules: list[str]) -> dict[str, int]:
    """Bulk-insert learners and their graded submissions into the cohort's gradebook."""
    from nbgrader.api import (
        Comment,
        Grade,
        Gradebook,
        Student,
        SubmittedAssignment,
        SubmittedNotebook,
    )
    from sqlalchemy import create_engine

    from privacy_course.authoring.content import module_content
    from privacy_course.facilitator.cohort import Cohort, db_url_for
    from privacy_course.facilitator.items import answer_keys

    cohort = Cohort(course, COHORT)
    db_url = db_url_for(course, COHORT)
    layout = {}
    with Gradebook(db_url, COHORT) as gb:
        for module_id in modules:
            assignment = gb.find_assignment(module_id)
            notebook = assignment.notebooks[0]
            content = module_content(course / "source" / module_id, module_id)
            layout[module_id] = {
                "assignment": assignment.id, "notebook": notebook.id,
                "grades": [(c.id, c.name, c.max_score) for c in notebook.grade_cells]
                + [(c.id, c.name, c.max_score) for c in notebook.task_cells],
                "comments": [c.id for c in notebook.solution_cells]
                + [c.id for c in notebook.task_cells],
                "content": content,
                "keys": {k.grade_id: k for k in answer_keys(
                    course / "source" / module_id / f"{module_id}.ipynb")},
            }
    rng = random.Random(SEED)
    students = [{"id": s, "first_name": f"First{s[-5:]}", "last_name": f"Last{s[-5:]}",
                 "email": f"{s}@district.example.org", "lms_user_id": None} for s in learners]
    subs, nbs, grades, comments = [], [], [], []
    start = datetime(2027, 1, 10, 9, 0)
    for learner in learners:
        for module_id in modules:
            if rng.random() < 0.10:
                continue  # did not submit
            info = layout[module_id]
            kind = rng.choices(("correct", "partial", "blank"), (0.65, 0.25, 0.10))[0]
            sub_id, nb_id = _id(), _id()
            subs.append({"id": sub_id, "assignment_id": info["assignment"],
                         "student_id": learner, "extension": None,
                         "timestamp": start + timedelta(minutes=rng.randrange(60 * 24 * 20))})
            nbs.append({"id": nb_id, "assignment_id": sub_id, "notebook_id": info["notebook"],
                        "flagged": False, "late_submission_penalty": None})
            answers = {}
            for cell_id, name, max_score in info["grades"]:
                if kind == "correct":
                    score = max_score
                elif kind == "blank":
                    score = 0.0
                else:
                    score = max_score if rng.random() < 0.6 else 0.0
                grades.append({"id": _id(), "notebook_id": nb_id, "cell_id": cell_id,
                               "auto_score": score, "manual_score": None, "extra_credit": None,
                               "needs_manual_grade": False})
                if name in info["keys"] and kind != "blank":
                    keyed = info["keys"][name]
                    answers[keyed.check] = _answer(rng, keyed, info["content"], score > 0)
            for cell_id in info["comments"]:
                comments.append({"id": _id(), "notebook_id": nb_id, "cell_id": cell_id,
                                 "auto_comment": "No response.", "manual_comment": None})
            finished = kind != "blank" and rng.random() < 0.9
            folder = cohort.folder / "autograded" / learner / module_id
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{module_id}.responses.json").write_text(json.dumps({
                "format": 1, "module": module_id, "answers": answers,
                "scenarios": {sid: _play(rng, scenario, finished)
                              for sid, scenario in info["content"].scenarios.items()}}),
                encoding="utf-8")
    engine = create_engine(db_url.split("?")[0] if db_url.startswith("sqlite") else db_url)
    with engine.begin() as conn:
        for table, rows in ((Student, students), (SubmittedAssignment, subs),
                            (SubmittedNotebook, nbs), (Grade, grades), (Comment, comments)):
            for i in range(0, len(rows), 20000):
                conn.execute(table.__table__.insert(), rows[i:i + 20000])
    engine.dispose()
    return {"learners": len(students), "submissions": len(subs), "grades": len(grades),
            "comments": len(comments)}


def measure(work: Path, n: int, modules: list[str], env: dict[str, str],
            export_timeout: float | None) -> dict:
    from privacy_course.facilitator.cohort import create_cohort, db_url_for
    from tests.conftest import copy_course

    course = copy_course(work / "course", modules)
    _common.write_roster(work / "roster.csv", 2, prefix="seed")
    start = time.perf_counter()
    create_cohort(course, COHORT, work / "roster.csv")
    learners = [f"learner{i:05d}" for i in range(1, n + 1)]
    counts = fill_gradebook(course, learners, modules)
    print(f"gradebook built in {time.perf_counter() - start:.1f} s: {counts}", flush=True)
    folder = course / "cohorts" / COHORT
    plain_nbgrader_config(folder, course, COHORT, db_url_for(course, COHORT), modules)

    out = {}
    commands = {
        "nbgrader export": ([tool("nbgrader"), "export", "--to", str(work / "grades.csv")],
                            folder),
        "privacy-course report": ([tool("privacy-course"), "report", "--cohort", COHORT,
                                   "--out", str(work / "reports")], course),
        "privacy-course status": ([tool("privacy-course"), "status", "--cohort", COHORT],
                                  course),
        # The item analysis alone (the report above includes it as a section).
        "report --all-cohorts": ([tool("privacy-course"), "report", "--all-cohorts", "--out",
                                  str(work / "reports")], course),
    }
    for name, (cmd, cwd) in commands.items():
        timeout = export_timeout if name == "nbgrader export" else None
        run = run_timed(cmd, cwd=cwd, env=env, timeout=timeout)
        if run.timed_out:
            print(f"  {name:<24} stopped after {run.seconds:.1f} s (--export-timeout), "
                  f"peak memory {run.maxrss_mb:7.0f} MB so far", flush=True)
        elif run.returncode != 0:
            sys.exit(f"{name} failed ({run.returncode}):\n{run.stderr[-3000:]}")
        else:
            print(f"  {name:<24} {run.seconds:8.1f} s   peak memory {run.maxrss_mb:7.0f} MB",
                  flush=True)
        out[name] = run
    if not out["nbgrader export"].timed_out:
        rows = sum(1 for _ in (work / "grades.csv").open()) - 1
        print(f"  (nbgrader export wrote {rows} rows)")
    print(f"  (status printed {out['privacy-course status'].stdout.count(chr(10))} lines)")
    return out


def main() -> None:
    from privacy_course.authoring.build import module_ids

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=5000)
    parser.add_argument("--modules", nargs="+", default=None, help="module ids (default: all)")
    parser.add_argument("--postgres", action="store_true",
                        help="also on a throw-away PostgreSQL server")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite scratch folder")
    parser.add_argument("--export-timeout", type=float, default=None, metavar="SECONDS",
                        help="stop nbgrader export after this long; the ratio is then an "
                             "upper bound (ours / the time export had run)")
    args = parser.parse_args()
    modules = args.modules or module_ids(ROOT)
    print(machine())
    print(f"{args.learners} learners x {len(modules)} modules")
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    ratios = []
    for backend in backends:
        scratch = Path(tempfile.mkdtemp(prefix=f"bench-reports-{backend}-"))
        try:
            with contextlib.ExitStack() as stack:
                env = dict(os.environ)
                if backend == "postgresql":
                    from tests.postgres import postgres_server

                    url = stack.enter_context(postgres_server())
                    os.environ["PRIVACY_COURSE_DB_URL"] = url
                    env["PRIVACY_COURSE_DB_URL"] = url
                print(f"\n[{backend}]")
                out = measure(scratch, args.learners, modules, env, args.export_timeout)
                os.environ.pop("PRIVACY_COURSE_DB_URL", None)
            export = out["nbgrader export"].seconds
            bound = "<=" if out["nbgrader export"].timed_out else "="
            for name in ("privacy-course report", "privacy-course status",
                         "report --all-cohorts"):
                ratio = out[name].seconds / export
                ratios.append(ratio)
                print(f"  {backend}: {name} / nbgrader export {bound} {ratio:.3f}")
        finally:
            if args.keep and backend == "sqlite":
                print(f"kept {scratch}", file=sys.stderr)
            else:
                shutil.rmtree(scratch, ignore_errors=True)
    final(max(ratios), 0.25)


if __name__ == "__main__":
    main()
