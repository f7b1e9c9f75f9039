"""`privacy-course`: the command line. Thin: each subcommand calls one function of the package."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from privacy_course.config import find_course_root, load_config
from privacy_course.errors import CourseError

log = logging.getLogger("privacy_course")


def due_date(text: str) -> datetime:
    """`--due`: a date and time in UTC, as 2027-01-15T17:00, 2027-01-15 17:00 or 2027-01-15
    (the end of that day)."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(hour=23, minute=59)
        when = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date and time; write it as 2027-01-15T17:00 (UTC) or "
            "2027-01-15 (the end of that day, UTC)") from None
    if when.tzinfo is not None:  # stored as nbgrader stores due dates: naive UTC
        from datetime import UTC

        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _cmd_build(args: argparse.Namespace) -> int:
    from privacy_course.authoring.build import build, check

    root = find_course_root()
    if args.check:
        result = check(root)
        if result.ok:
            print("source/ and release/ are up to date.")
            return 0
        print("Stale files (run `privacy-course build` and commit the result):")
        for line in result.stale:
            print(f"  {line}")
        return 1
    built = build(root, modules=args.modules or None)
    print(f"Built {len(built)} module(s): {', '.join(built)}")
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    from privacy_course.start import start

    return start(find_course_root(), workspace=args.workspace, port=args.port,
                 open_browser=not args.no_browser, cohort=args.cohort, learner_id=args.learner,
                 facilitator=args.facilitator)


def _cohort(args: argparse.Namespace) -> Any:
    """The cohort a facilitator command is about: --cohort, PRIVACY_COURSE_COHORT, or the only
    cohort there is; grader_config.py is loaded here, once for the command."""
    import os

    from privacy_course.coursedir import CohortError, list_cohorts, open_cohort

    root = find_course_root()
    name = args.cohort or os.environ.get("PRIVACY_COURSE_COHORT")
    if not name:
        cohorts = list_cohorts(root)
        if len(cohorts) != 1:
            names = ", ".join(c["name"] for c in cohorts) or "none yet"
            raise CohortError(f"say which cohort with --cohort NAME (cohorts: {names})")
        name = cohorts[0]["name"]
    return open_cohort(root, name, load_config(root))


def _modules(cohort: Any, names: list[str], all_modules: bool) -> list[str]:
    from privacy_course.authoring.build import module_ids
    from privacy_course.coursedir import CohortError

    known = module_ids(cohort.root)
    if all_modules or not names:
        return known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CohortError(f"no module(s) {', '.join(unknown)}; modules are: {', '.join(known)}")
    return names


def _cmd_cohort(args: argparse.Namespace) -> int:
    from privacy_course.coursedir import Cohort
    from privacy_course.facilitator.cohort import add_learners, create_cohort, list_cohorts

    root = find_course_root()
    config = load_config(root)
    if args.action == "create":
        cohort = create_cohort(root, args.name, args.roster, config)
        print(f"Created cohort {cohort.name} with {len(cohort.learner_ids())} learners "
              f"({cohort.folder}).")
    elif args.action == "add-learners":
        added = add_learners(root, args.name, args.roster, config)
        print(f"Added {len(added)} learner(s) to {args.name}.")
    else:
        cohorts = list_cohorts(root)
        if not cohorts:
            print("No cohorts yet. Create one with: privacy-course cohort create NAME "
                  "--roster roster.csv")
        for info in cohorts:
            count = len(Cohort(root, info["name"], config).learner_ids())
            print(f"{info['name']}\t{count} learners\tcreated {info['created']}")
    return 0


def _cmd_release(args: argparse.Namespace) -> int:
    from privacy_course.facilitator.cohort import release

    cohort = _cohort(args)
    due = args.due
    for module_id in _modules(cohort, args.modules, args.all):
        release(cohort, module_id, due)
        print(f"Released {module_id} to {cohort.name}"
              + (f" (due {due:%Y-%m-%d %H:%M} UTC)" if due else ""))
    return 0


def _cmd_collect(args: argparse.Namespace) -> int:
    from privacy_course.facilitator.cohort import collect

    cohort = _cohort(args)
    for module_id in _modules(cohort, args.modules, args.all):
        learners = collect(cohort, module_id)
        print(f"{module_id}: {len(learners)} submission(s) collected")
    return 0


def _cmd_grade(args: argparse.Namespace) -> int:
    from privacy_course.facilitator.watch import watch
    from privacy_course.grading.autograde import grade

    cohort = _cohort(args)
    modules = _modules(cohort, args.modules, args.all)
    if args.watch:
        watch(cohort, modules, interval=args.interval, cycles=args.cycles, workers=args.workers)
        return 0
    outcomes = grade(cohort, modules, workers=args.workers)
    problems = [o for o in outcomes if not o.ok or o.notes]
    print(f"Graded {sum(o.ok for o in outcomes)} of {len(outcomes)} submission(s).")
    if problems:
        print("\nProblems and flags, per learner:")
        print(f"  {'learner':<20} {'module':<28} problem")
        for o in problems:
            text = o.problem if not o.ok else "; ".join(o.notes)
            if o.log:
                text += f" (full log: {cohort.folder / o.log})"
            print(f"  {o.learner:<20} {o.module_id:<28} {text}")
    return 1 if any(not o.ok for o in outcomes) else 0


def _cmd_feedback(args: argparse.Namespace) -> int:
    """Exit 1 when a learner who handed a module in did not get its feedback (each is named)."""
    from privacy_course.facilitator.cohort import feedback

    cohort = _cohort(args)
    missing: list[tuple[str, str, str]] = []
    for module_id in _modules(cohort, args.modules, args.all):
        outcome = feedback(cohort, module_id)
        sent = [name for name, why in outcome.items() if not why]
        print(f"{module_id}: feedback returned to {len(sent)} of {len(outcome)} learner(s) "
              "who handed it in.")
        missing += [(name, module_id, why) for name, why in outcome.items() if why]
    if missing:
        print("\nNo feedback, per learner:")
        print(f"  {'learner':<20} {'module':<28} why")
        for name, module_id, why in missing:
            print(f"  {name:<20} {module_id:<28} {why}")
    return 1 if missing else 0


def _cmd_status(args: argparse.Namespace) -> int:
    from privacy_course.authoring.build import module_ids
    from privacy_course.facilitator.completion import completion, status_table

    cohort = _cohort(args)
    print(status_table(completion(cohort), module_ids(cohort.root)))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from privacy_course.facilitator.reports import report

    cohort = _cohort(args)
    out = args.out or cohort.root / "reports"
    for path in report(cohort, out, share=args.share):
        print(f"Wrote {path}")
    return 0


def _cmd_certificates(args: argparse.Namespace) -> int:
    from privacy_course.authoring.build import module_ids
    from privacy_course.facilitator.completion import completion
    from privacy_course.facilitator.reports import write_certificates

    cohort = _cohort(args)
    out = args.out or cohort.root / "reports" / f"{cohort.name}-certificates"
    written = write_certificates(cohort, completion(cohort), module_ids(cohort.root), out)
    print(f"Wrote {len(written)} file(s) in {out}" if written else
          "No learner has completed every module yet: no certificates written.")
    return 0


def _cmd_purge(args: argparse.Namespace) -> int:
    from privacy_course.facilitator.cohort import open_cohort, purge

    root = find_course_root()
    cohort = open_cohort(root, args.name, load_config(root))
    if not args.yes:
        answer = input(f"This deletes every learner's data in cohort {cohort.name!r} "
                       "(gradebook, submissions, feedback, exchange copies). Type the cohort "
                       "name to confirm: ")
        if answer.strip() != cohort.name:
            print("Not confirmed; nothing was deleted.")
            return 1
    removed = purge(cohort)
    print(f"Purged cohort {cohort.name}: {removed['learners']} learners, "
          f"{removed['submissions']} submissions, {removed['files']} files removed:")
    for place in removed["removed"]:
        print(f"  removed {place}")
    if removed["remaining"]:
        print("\nThese files outside the course's own folders still name a learner of the "
              "cohort; check them and delete what you no longer need:")
        for path in removed["remaining"]:
            print(f"  {path}")
    return 0


def _set_up_logging(verbose: int) -> None:
    """Warnings (and, with -v, progress; with -vv, nbgrader's own detail) go to stderr."""
    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    log.setLevel(level)
    if not any(getattr(h, "_privacy_course", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s" if not verbose
                                               else "%(levelname)s %(name)s: %(message)s"))
        handler._privacy_course = True  # type: ignore[attr-defined]
        log.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    import os

    # nbgrader's gradebook runs the `alembic` program it finds on PATH: make it this one's.
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
    parser = argparse.ArgumentParser(
        prog="privacy-course",
        description="Student data privacy course: build it, start it, and run cohorts.")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="say more about what happens (-vv: nbgrader's own detail too)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("build", help="build source/ and release/ from modules/")
    p.add_argument("modules", nargs="*", help="module ids (default: all)")
    p.add_argument("--check", action="store_true",
                   help="build into a temporary folder and fail if committed trees differ")
    p.set_defaults(func=_cmd_build)

    p = sub.add_parser("start", help="open the learner's JupyterLab on the course")
    p.add_argument("--workspace", type=Path, default=None,
                   help="the learner's folder (default: learner/ in the course folder)")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--cohort", help="join a cohort's released modules instead of self-study")
    p.add_argument("--learner", help="your learner id in the cohort's roster (default: your "
                                     "computer user name)")
    p.add_argument("--facilitator", action="store_true",
                   help="the facilitator's JupyterLab (formgrader, create-assignment) on the "
                        "cohort given with --cohort, or on the built-in course")
    p.set_defaults(func=_cmd_start)

    p = sub.add_parser("cohort", help="create, list or extend cohorts")
    cohort_sub = p.add_subparsers(dest="action", required=True)
    c = cohort_sub.add_parser("create", help="make a cohort from a roster CSV")
    c.add_argument("name")
    c.add_argument("--roster", type=Path, required=True,
                   help="CSV with columns id, first_name, last_name, email")
    c = cohort_sub.add_parser("add-learners", help="add learners from another roster CSV")
    c.add_argument("name")
    c.add_argument("--roster", type=Path, required=True)
    cohort_sub.add_parser("list", help="list the cohorts")
    p.set_defaults(func=_cmd_cohort)

    def cohort_command(name: str, help_text: str, func: Any,
                       modules: bool = True) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help_text)
        q.add_argument("--cohort", help="cohort name (default: the only cohort)")
        if modules:
            q.add_argument("modules", nargs="*", help="module ids")
            q.add_argument("--all", action="store_true", help="every module")
        q.set_defaults(func=func)
        return q

    q = cohort_command("release", "release modules to the cohort", _cmd_release)
    q.add_argument("--due", type=due_date,
                   help="due date and time in UTC, e.g. 2027-01-15T17:00, or 2027-01-15 for "
                        "the end of that day")
    cohort_command("collect", "collect submissions from the exchange", _cmd_collect)
    q = cohort_command("grade", "grade submissions (all of the cohort's, in parallel)",
                       _cmd_grade)
    q.add_argument("--workers", type=int, default=None,
                   help="parallel graders (default: cores + 1)")
    q.add_argument("--watch", action="store_true",
                   help="keep collecting, grading and returning feedback as work arrives")
    q.add_argument("--interval", type=float, default=60.0, help="seconds between rounds")
    q.add_argument("--cycles", type=int, default=None, help=argparse.SUPPRESS)
    cohort_command("feedback", "return feedback (never showing hidden tests)", _cmd_feedback)
    cohort_command("status", "completion table in the terminal", _cmd_status, modules=False)
    q = cohort_command("report", "CSV and HTML reports", _cmd_report, modules=False)
    q.add_argument("--share", action="store_true",
                   help="aggregate report for outside the facilitator team: no names, small "
                        "counts suppressed")
    q.add_argument("--out", type=Path, default=None, help="folder (default: reports/)")
    q = cohort_command("certificates", "certificates for learners who completed the course",
                       _cmd_certificates, modules=False)
    q.add_argument("--out", type=Path, default=None)
    q = sub.add_parser("purge", help="delete all of a cohort's learner data")
    q.add_argument("name")
    q.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    q.set_defaults(func=_cmd_purge)

    args = parser.parse_args(argv)
    _set_up_logging(args.verbose)
    try:
        return int(args.func(args))
    except CourseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
