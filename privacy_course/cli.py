"""`privacy-course`: the command line. Thin: each subcommand calls one function of the package."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

from privacy_course.config import find_course_root, load_config
from privacy_course.errors import CourseError

log = logging.getLogger("privacy_course")


def due_date(text: str) -> datetime:
    """`--due`: a date and time as people write one ("Jan 15 2027 5pm"), checked before
    anything runs; read in the cohort's time zone later, unless it names an offset or UTC."""
    from privacy_course.facilitator.dates import DateError, parse_when

    try:
        return parse_when(text)
    except DateError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def state_code(text: str) -> str:
    """`--state`: the postal code of a state or DC, e.g. NY (checked before anything runs)."""
    from privacy_course.authoring.states import state_code as checked

    return checked(text)


def _confirm(question: str) -> bool:
    """Ask at a terminal; anywhere else (a script, a pipe) the answer is no."""
    if not sys.stdin or not sys.stdin.isatty():
        print(f"{question} Not asked, as no one is at a terminal: add --yes to go ahead.")
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


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


def _cmd_scenario_map(args: argparse.Namespace) -> int:
    from privacy_course.authoring.build import BuildError, module_ids
    from privacy_course.authoring.scenario_map import write_maps

    root = find_course_root()
    ids = args.modules or module_ids(root)
    unknown = sorted(set(ids) - set(module_ids(root)))
    if unknown:
        raise BuildError(f"no such module folder(s) in {root / 'modules'}: {unknown}")
    for module_id in ids:
        for path in write_maps(root, module_id):
            print(path.relative_to(root))
    return 0


def _cmd_start(args: argparse.Namespace) -> int:
    from privacy_course.start import start

    return start(find_course_root(), workspace=args.workspace, port=args.port,
                 open_browser=not args.no_browser, cohort=args.cohort, learner_id=args.learner,
                 facilitator=args.facilitator)


def _cmd_submit(args: argparse.Namespace) -> int:
    """Hand in a module as its learner (the module page runs this; `--json` is its answer)."""
    from privacy_course.selfstudy import submit

    result = submit(args.folder or Path.cwd())
    if args.json:
        print(result.to_json())
        return 0
    print(f"Submitted {result.module} at {result.submitted_at}"
          + (" (a resubmission)." if result.resubmission else "."))
    if result.graded:
        print(f"Graded: {result.score:g} of {result.max_score:g}. Feedback: {result.feedback}")
    elif result.problem:
        print(f"Not graded: {result.problem}")
    return 0


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


def _modules(args: argparse.Namespace, verb: str) -> list[str]:
    """The modules a command acts on: the ids given (the number part, "m01", is enough), or
    every module with --all; never every module by default. Checked before anything runs."""
    from privacy_course.authoring.build import module_ids
    from privacy_course.coursedir import CohortError

    names, all_modules = args.modules, args.all
    known = module_ids(find_course_root())
    listing = "\n".join(f"  {m}" for m in known)
    if all_modules and names:
        raise CohortError(f"give module ids or --all, not both (to {verb})")
    if all_modules:
        return known
    if not names:
        raise CohortError(f"say which module(s) to {verb}: one or more module ids (the number "
                          f"is enough, e.g. m01), or --all for every module. The modules:\n"
                          f"{listing}")
    chosen, unknown = [], []
    for name in names:
        match = [m for m in known if m == name or m.startswith(name + "-")]
        if len(match) == 1:
            chosen.append(match[0])
        else:
            unknown.append(name)
    if unknown:
        raise CohortError(f"no module {', '.join(unknown)}; the modules are:\n{listing}")
    return list(dict.fromkeys(chosen))


def _cohort_option(cohort: Any) -> str:
    """" --cohort NAME" for the commands a message suggests, when there is more than one."""
    from privacy_course.coursedir import list_cohorts

    return f" --cohort {cohort.name}" if len(list_cohorts(cohort.root)) > 1 else ""


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
    """Release; a due date that replaces another is shown, old and new, and asked about (or
    needs --yes); one in the past is warned about."""
    from privacy_course.facilitator.cohort import due_changes, due_dates, release
    from privacy_course.facilitator.dates import describe, in_the_past, to_utc

    modules = _modules(args, "release")
    cohort = _cohort(args)
    tz = cohort.time_zone
    due = to_utc(args.due, tz) if args.due is not None else None
    if due is not None:
        changes = due_changes(cohort, modules, due)
        if changes:
            for module_id, old in changes:
                print(f"{module_id}: the due date changes from {describe(old, tz)} to "
                      f"{describe(due, tz)}.")
            if not args.yes and not _confirm("Change it?"):
                print("Nothing was released or changed.")
                return 1
        if in_the_past(due):
            print(f"Warning: the due date {describe(due, tz)} is in the past: every "
                  "submission from now on counts as late.", file=sys.stderr)
    for module_id in modules:
        release(cohort, module_id, due, args.state)
        when = due_dates(cohort, [module_id])[module_id]
        print(f"Released {module_id} to {cohort.name}, "
              + (f"due {describe(when, tz)}." if when else "with no due date."))
    return 0


def _cmd_states(args: argparse.Namespace) -> int:
    from privacy_course.authoring.state_report import command

    return command(args.action, find_course_root(), state=getattr(args, "state", None),
                   fmt=getattr(args, "format", "all"), out=getattr(args, "out", None),
                   on=getattr(args, "on", None), days=getattr(args, "days", None))


def _cmd_collect(args: argparse.Namespace) -> int:
    from privacy_course.facilitator.cohort import collect, submitted

    modules = _modules(args, "collect")
    cohort = _cohort(args)
    for module_id in modules:
        new = collect(cohort, module_id)
        print(f"{module_id}: {len(new)} new submission(s) collected, "
              f"{len(submitted(cohort, module_id))} in all.")
    return 0


def _cmd_grade(args: argparse.Namespace) -> int:
    """Grade what is new or changed (everything with --regrade); say what waits uncollected."""
    from privacy_course.facilitator.cohort import collect, uncollected
    from privacy_course.facilitator.status import flag_lines, learner_labels, waiting_lines
    from privacy_course.facilitator.watch import watch
    from privacy_course.grading.autograde import grade
    from privacy_course.record import Flag

    modules = _modules(args, "grade")
    cohort = _cohort(args)
    if args.watch:
        watch(cohort, modules, interval=args.interval, cycles=args.cycles, workers=args.workers)
        return 0
    if args.collect:
        for module_id in modules:
            print(f"{module_id}: {len(collect(cohort, module_id))} new submission(s) collected.")
    outcomes = grade(cohort, modules, workers=args.workers, only_new=not args.regrade)
    if outcomes:
        what = "submission(s)" if args.regrade else "new or changed submission(s)"
        print(f"Graded {sum(o.ok for o in outcomes)} of {len(outcomes)} {what}.")
    else:
        import textwrap

        print(textwrap.fill(
            f"Nothing new to grade in {', '.join(m.split('-')[0] for m in modules)}: each "
            "collected submission was graded, or could not be and waits for the learner to "
            "hand it in again (`--regrade` grades them all again).", 80))
    lines = waiting_lines({m: uncollected(cohort, m) for m in modules}, _cohort_option(cohort))
    if lines:
        print("\n" + "\n".join(lines))
    names = learner_labels(cohort)
    flagged: list[tuple[str, str, Flag]] = []
    for o in outcomes:
        flags = [o.problem] if not o.ok else list(o.notes)
        flagged += [(names.get(o.learner, o.learner), o.module_id, f) for f in flags
                    if isinstance(f, Flag)]
    if flagged:
        print("\nProblems and flags, and what to do:")
        print("\n".join(flag_lines(flagged)))
    logs = sorted({str((cohort.folder / o.log).parent) for o in outcomes if o.log})
    if logs:
        print("\nThe whole log of each grading that failed is kept, one file per learner, in:")
        print("\n".join(f"  {folder}" for folder in logs))
    return 1 if any(not o.ok for o in outcomes) else 0


def _cmd_feedback(args: argparse.Namespace) -> int:
    """Exit 1 when a learner who handed a module in did not get its feedback (each is named)."""
    from privacy_course.facilitator.cohort import feedback

    modules = _modules(args, "return feedback for")
    cohort = _cohort(args)
    missing: list[tuple[str, str, str]] = []
    for module_id in modules:
        outcome = feedback(cohort, module_id)
        sent = [name for name, why in outcome.items() if not why]
        print(f"{module_id}: feedback returned to {len(sent)} of {len(outcome)} learner(s) "
              "who handed it in.")
        missing += [(name, module_id, why) for name, why in outcome.items() if why]
    if missing:
        from privacy_course.facilitator.status import feedback_lines

        print("\nNo feedback yet:")
        print("\n".join(feedback_lines(cohort, missing)))
    return 1 if missing else 0


def _cmd_status(args: argparse.Namespace) -> int:
    from privacy_course.facilitator import status

    cohort = _cohort(args)
    view = status.cohort_status(cohort, _cohort_option(cohort))
    width = 0 if args.wide else status.WIDTH
    if not args.needs_action:
        print(status.render(view, width))
        return 0
    reminders = status.needs_action(view)
    if args.out:
        args.out.write_text(status.reminders_csv(view, reminders), encoding="utf-8-sig")
        print(f"Wrote {len(reminders)} learner(s) who need to act to {args.out}.")
    elif args.csv:
        sys.stdout.write(status.reminders_csv(view, reminders))
    else:
        print(status.reminders_text(view, reminders, width))
    return 0


def _cmd_report_all_cohorts(args: argparse.Namespace) -> int:
    from privacy_course.coursedir import list_cohorts, open_cohort
    from privacy_course.facilitator.item_report import all_cohorts_report

    root = find_course_root()
    config = load_config(root)
    cohorts = [open_cohort(root, c["name"], config) for c in list_cohorts(root)]
    for path in all_cohorts_report(cohorts, args.out or root / "reports", share=args.share):
        print(f"Wrote {path}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from privacy_course.facilitator.reports import report

    if args.all_cohorts:
        return _cmd_report_all_cohorts(args)
    cohort = _cohort(args)
    out = args.out or cohort.root / "reports"
    for path in report(cohort, out, share=args.share):
        print(f"Wrote {path}")
    return 0


def _cmd_certificates(args: argparse.Namespace) -> int:
    from privacy_course.authoring.build import module_ids
    from privacy_course.facilitator.certificates import run_lines, write_certificates
    from privacy_course.facilitator.completion import completion

    cohort = _cohort(args)
    out = args.out or cohort.root / "reports" / f"{cohort.name}-certificates"
    run = write_certificates(cohort, completion(cohort), module_ids(cohort.root), out)
    print("\n".join(run_lines(run, cohort.root)))
    return 0


def _cmd_certificates_verify(args: argparse.Namespace) -> int:
    """Exit 0 only for a genuine credential signed with the trusted issuer key."""
    from privacy_course.facilitator.certificates import installation_key, verify_certificate

    genuine, lines = verify_certificate(args.file, args.issuer_key, installation_key())
    print("\n".join(lines))
    return 0 if genuine else 1


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

    p = sub.add_parser("scenario-map",
                       help="draw each scenario as a map (modules/<id>/maps/<scenario>.svg)")
    p.add_argument("modules", nargs="*", help="module ids (default: all)")
    p.set_defaults(func=_cmd_scenario_map)

    p = sub.add_parser("start", help="open the learner's JupyterLab on the course")
    p.add_argument("--workspace", type=Path, default=None,
                   help="the learner's folder (default: learner/ in the course folder; "
                        "with --learner ID, learner/ID/)")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--cohort", help="join a cohort's released modules instead of self-study")
    p.add_argument("--learner", help="your learner id in the cohort's roster (default: your "
                                     "computer user name)")
    p.add_argument("--facilitator", action="store_true",
                   help="the facilitator's JupyterLab (formgrader, create-assignment) on the "
                        "cohort given with --cohort, or on the built-in course")
    p.set_defaults(func=_cmd_start)

    p = sub.add_parser("submit", help="hand in a module, as its learner (self-study: grade it "
                                      "at once and fetch the feedback)")
    p.add_argument("folder", type=Path, nargs="?", default=None,
                   help="the module's folder (default: the current folder)")
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_submit)

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
                   help="due date and time in the cohort's time zone (c.CourseSettings."
                        "time_zone in grader_config.py, UTC by default), e.g. \"Jan 15 2027 "
                        "5pm\", \"2027-01-15 17:00\", or \"15 January 2027\" for the end of "
                        "that day")
    q.add_argument("--yes", action="store_true",
                   help="change a due date that is already set without asking")
    q.add_argument("--state", type=state_code,
                   help="the cohort's default state (postal code, e.g. NY) for the modules' "
                        "\"Your state\" sections; kept for later releases")
    cohort_command("collect", "collect submissions from the exchange", _cmd_collect)
    q = cohort_command("grade", "grade new and changed submissions, in parallel", _cmd_grade)
    q.add_argument("--collect", action="store_true",
                   help="collect new submissions from the exchange first")
    q.add_argument("--regrade", action="store_true",
                   help="grade every collected submission again, not only new or changed ones")
    q.add_argument("--workers", type=int, default=None,
                   help="parallel graders (default: cores + 1)")
    q.add_argument("--watch", action="store_true",
                   help="keep collecting, grading and returning feedback as work arrives")
    q.add_argument("--interval", type=float, default=60.0, help="seconds between rounds")
    q.add_argument("--cycles", type=int, default=None, help=argparse.SUPPRESS)
    cohort_command("feedback", "return feedback (never showing hidden tests)", _cmd_feedback)
    q = cohort_command("status", "where the cohort stands: due dates, work waiting, a learner "
                       "x module table, flags and what to do", _cmd_status, modules=False)
    q.add_argument("--wide", action="store_true",
                   help="never wrap or shorten lines (for a wide window or a file)")
    q.add_argument("--needs-action", action="store_true",
                   help="only who needs to act (not handed in, below the pass mark, file "
                        "damaged), with e-mail addresses, for reminders")
    q.add_argument("--csv", action="store_true",
                   help="with --needs-action: CSV for a mail merge, one row per learner")
    q.add_argument("--out", type=Path, default=None,
                   help="with --needs-action: write the CSV to this file (UTF-8 with a "
                        "byte-order mark, which Excel needs for accents)")
    q = cohort_command("report", "CSV and HTML reports", _cmd_report, modules=False)
    q.add_argument("--share", action="store_true",
                   help="aggregate report for outside the facilitator team: no names, small "
                        "counts suppressed")
    q.add_argument("--out", type=Path, default=None, help="folder (default: reports/)")
    q.add_argument("--all-cohorts", action="store_true",
                   help="item analysis of every cohort pooled (which checks work, which wrong "
                        "answers draw learners, which scenario paths they take)")
    q = cohort_command("certificates", "certificates for learners who completed the course; "
                       "`certificates verify FILE` checks one", _cmd_certificates, modules=False)
    q.add_argument("--out", type=Path, default=None,
                   help="folder (default: reports/<cohort>-certificates/)")
    v = q.add_subparsers(dest="certificates_action", metavar="verify").add_parser(
        "verify", help="check a certificate's signed credential, offline")
    v.add_argument("file", type=Path, help="the certificate's .credential.json file")
    v.add_argument("--issuer-key", type=Path, default=None,
                   help="the issuer's public key file (issuer-public-key.json); default: this "
                        "course installation's own key")
    v.set_defaults(func=_cmd_certificates_verify)
    p = sub.add_parser("states", help="the state student-privacy dataset: list, show, "
                                      "export, and entries due for re-verification")
    states_sub = p.add_subparsers(dest="action", required=True)
    states_sub.add_parser("list", help="each covered state, and how far its rules were checked")
    s = states_sub.add_parser("show", help="one state's entries, topic by topic")
    s.add_argument("state", help="postal code, e.g. NY")
    s = states_sub.add_parser("export", help="the open data: JSON, CSV and JSON schema")
    s.add_argument("--format", choices=("all", "json", "csv", "schema"), default="all",
                   help="all (default): the three files into a folder; or one of them")
    s.add_argument("--out", type=Path, default=None,
                   help="folder for all (default states/export/); file for one (default: "
                        "standard output)")
    s = states_sub.add_parser("due", help="entries verified longer ago than the review period "
                                          "(exit code 1 if any)")
    s.add_argument("--on", type=date.fromisoformat, default=None,
                   help="as of this day, YYYY-MM-DD (default: today)")
    s.add_argument("--days", type=int, default=None, help="review period (default: 365)")
    p.set_defaults(func=_cmd_states)

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
