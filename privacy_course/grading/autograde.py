"""Grade a whole cohort in one run: every learner's submission of the named modules, in
parallel across the machine's cores, with nbgrader's own autograde doing each one.

Stock `nbgrader autograde` grades one submission after another and stops reporting clearly when
one is bad. Here a pool of worker processes each keeps one nbgrader instance for many
submissions (start-up is paid once per worker, not per submission); the SQLite gradebook runs in
write-ahead-log mode with a long busy timeout so workers wait for each other's short writes
instead of failing with "database is locked"; and each submission's failure is caught, put in
plain words and reported per learner at the end, without stopping anyone else's grading.
Grading is idempotent: nbgrader regrades with `force`, so a second run gives the same gradebook.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from privacy_course.facilitator.cohort import Cohort, submitted
from privacy_course.grading.intake import check_submitted, limits_from
from privacy_course.learner.responses import atomic_write_json

ISSUES_FILE = "grading-issues.json"
BLOCKING_FLAGS = ("wrong file name", "no notebook", "the notebook file", "notebook format")


@dataclass(frozen=True)
class Outcome:
    module_id: str
    learner: str
    ok: bool
    problem: str = ""
    notes: tuple[str, ...] = ()


def explain(error: str) -> str:
    """One plain sentence for what went wrong in an nbgrader autograde run."""
    text = error or ""
    if "NotJSONError" in text or "does not appear to be JSON" in text or "JSONDecodeError" in text:
        return "the notebook file is damaged (not valid JSON)"
    if "CellTimeoutError" in text or "timed out" in text.lower():
        return "a cell ran longer than the time limit"
    if "DeadKernelError" in text or "Kernel died" in text:
        return "the notebook's kernel crashed during grading"
    if "NBFormatError" in text or "ValidationError" in text or "nbformat" in text.lower():
        return "the notebook is not in a format nbgrader can read"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "grading failed for an unknown reason"


_API: Any = None
_LIMITS: Any = None


def _worker_init(root: str, name: str, sandboxed: bool) -> None:
    global _API, _LIMITS
    import atexit
    import logging
    import shutil
    import warnings

    # nbgrader's own SQLAlchemy session warnings say nothing a facilitator can act on.
    warnings.filterwarnings("ignore", module=r"nbgrader\..*")

    cohort = Cohort(Path(root), name)
    config = cohort.config()
    if sandboxed:
        from privacy_course.grading.sandbox import worker_setup

        settings = sandbox_settings(Path(root))
        folder = worker_setup(settings)
        atexit.register(shutil.rmtree, folder, True)
        # The kernel speaks to nbgrader over Unix sockets: the sandbox has no network at all.
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(folder, "run", "kernel")
        config.LimitedExecute.output_kb = settings["output_kb"]
        config.Autograde.autograde_preprocessors = [
            "privacy_course.grading.sandbox.LimitedExecute" if p == "nbgrader.preprocessors.Execute"
            else p for p in config.Autograde.autograde_preprocessors]
    _API = cohort.api(config)
    _API.log.setLevel(logging.WARNING)
    _LIMITS = limits_from(config)


def sandbox_settings(root: Path) -> dict[str, Any]:
    from privacy_course.config import SandboxSettings, load_config

    settings = SandboxSettings(config=load_config(root))
    return {name: getattr(settings, name) for name in (
        "cpu_seconds", "memory_mb", "processes", "file_size_mb", "write_quota_mb",
        "submission_files", "submission_mb", "output_kb")}


def use_sandbox(root: Path, warn: Any = None) -> bool:
    """Whether grading runs in the restricted kernel. Refuses (raises SandboxUnavailable) when
    isolation is impossible, unless the facilitator opted out in grader_config.py."""
    from privacy_course.config import SandboxSettings, load_config
    from privacy_course.grading.sandbox import SandboxUnavailable, check_available

    settings = SandboxSettings(config=load_config(root))
    warn = warn or (lambda text: print(text, file=sys.stderr))
    if not settings.enabled:
        if not settings.allow_unsandboxed:
            raise SandboxUnavailable("c.SandboxSettings.enabled = False also needs "
                                     "c.SandboxSettings.allow_unsandboxed = True")
        warn("WARNING: grading runs learners' code WITHOUT the sandbox "
             "(SandboxSettings.allow_unsandboxed): it can read the gradebook and other work.")
        return False
    try:
        check_available()
    except SandboxUnavailable:
        if not settings.allow_unsandboxed:
            raise
        warn("WARNING: the grading sandbox is not available here and "
             "SandboxSettings.allow_unsandboxed is set: learners' code runs unisolated.")
        return False
    return True


def _grade_one(module_id: str, learner: str) -> Outcome:
    from privacy_course.grading import trusted
    from privacy_course.grading.integrity import inspect_graded, inspect_submission

    root = Path(_API.coursedir.source_directory).parent
    folder = Path(_API.coursedir.root) / "submitted" / learner / module_id
    refused = check_submitted(Path(_API.coursedir.root), learner, module_id, folder, _LIMITS)
    before = [*refused, *inspect_submission(root, folder, module_id)]
    trusted.NOTES.clear()
    try:
        result = _API.autograde(module_id, learner, force=True, create=True)
    except Exception as exc:  # nbgrader normally reports failures in `result`; belt and braces
        return Outcome(module_id, learner, False, explain(repr(exc)), tuple(before))
    log = result.get("log") or ""
    graded = Path(_API.coursedir.root) / "autograded" / learner / module_id / f"{module_id}.ipynb"
    notes = [*before, *trusted.NOTES,
             *(inspect_graded(graded) if result.get("success") else [])]
    notes = tuple(dict.fromkeys(notes))  # each once, in order
    if result.get("success"):
        return Outcome(module_id, learner, True, notes=notes)
    # When the folder itself was wrong, say so rather than quote nbgrader's traceback.
    known = [n for n in before if n.startswith(BLOCKING_FLAGS)]
    problem = known[0] if known else explain((result.get("error") or "") + "\n" + log)
    return Outcome(module_id, learner, False, problem,
                   tuple(n for n in notes if n != problem))


def tasks_for(cohort: Cohort, modules: list[str], only_new: bool = False) -> list[tuple[str, str]]:
    """(module, learner) for every submission; with `only_new`, those not graded since they
    were last submitted."""
    tasks = []
    for module_id in modules:
        for learner in submitted(cohort, module_id):
            if only_new and _graded_is_current(cohort, module_id, learner):
                continue
            tasks.append((module_id, learner))
    return tasks


def _graded_is_current(cohort: Cohort, module_id: str, learner: str) -> bool:
    sub = cohort.folder / "submitted" / learner / module_id / "timestamp.txt"
    done = cohort.folder / "autograded" / learner / module_id / "timestamp.txt"
    issues = load_issues(cohort).get(module_id, {})
    if learner in issues:
        return issues[learner].get("timestamp") == _read(sub)
    return done.exists() and _read(done) == _read(sub)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


class Progress:
    """A one-line progress bar on a terminal; one line per submission elsewhere (CI logs)."""

    def __init__(self, total: int, stream: Any = None) -> None:
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self, outcome: Outcome) -> None:
        self.done += 1
        mark = "ok" if outcome.ok else "PROBLEM"
        if self.tty:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] "
                              f"{self.done}/{self.total} graded")
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"[{self.done}/{self.total}] {outcome.module_id} "
                              f"{outcome.learner}: {mark}\n")
        self.stream.flush()


def load_issues(cohort: Cohort) -> dict[str, dict[str, dict[str, str]]]:
    """Problems from earlier grading runs: {module: {learner: {problem, timestamp}}}."""
    path = cohort.folder / ISSUES_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, json.JSONDecodeError):
        return {}


def _save_issues(cohort: Cohort, outcomes: list[Outcome]) -> None:
    issues = load_issues(cohort)
    for outcome in outcomes:
        per_module = issues.setdefault(outcome.module_id, {})
        if outcome.ok and not outcome.notes:
            per_module.pop(outcome.learner, None)
        else:
            stamp = cohort.folder / "submitted" / outcome.learner / outcome.module_id
            per_module[outcome.learner] = {
                "problem": outcome.problem,
                "notes": list(outcome.notes),
                "graded": outcome.ok,
                "timestamp": _read(stamp / "timestamp.txt"),
            }
    atomic_write_json(cohort.folder / ISSUES_FILE, {m: v for m, v in issues.items() if v})


def default_workers() -> int:
    """One grading worker per usable core, plus one. Why the extra one: a worker spends about
    half of each submission waiting for its kernel (starting, answering, shutting down, with
    jupyter_client polling every 0.1 s), so one per core leaves cores idle. Measured on 2 cores
    with 20 submissions, median of 3: 2 workers 22.0 s, 3 workers 20.4 s, 4 workers 22.3 s."""
    try:
        cores = len(os.sched_getaffinity(0))  # the cores this process may use (containers)
    except AttributeError:
        cores = os.cpu_count() or 1
    return cores + 1


def grade(
    cohort: Cohort,
    modules: list[str],
    workers: int | None = None,
    only_new: bool = False,
    progress: Any = None,
) -> list[Outcome]:
    """Grade the cohort's submissions of `modules`; return one outcome per submission."""
    tasks = tasks_for(cohort, modules, only_new)
    if not tasks:
        return []
    workers = max(1, min(workers or default_workers(), len(tasks)))
    sandboxed = use_sandbox(cohort.root)
    bar = progress if progress is not None else Progress(len(tasks))
    outcomes: list[Outcome] = []
    # "spawn": nbgrader's kernels and zmq sockets must not be inherited through fork.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_worker_init,
                             initargs=(str(cohort.root), cohort.name, sandboxed)) as pool:
        futures = [pool.submit(_grade_one, m, learner) for m, learner in tasks]
        for future in as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # a worker died (killed, out of memory)
                index = futures.index(future)
                module_id, learner = tasks[index]
                outcome = Outcome(module_id, learner, False,
                                  f"the grading process died ({exc.__class__.__name__})")
            outcomes.append(outcome)
            bar.step(outcome)
    outcomes.sort(key=lambda o: (o.module_id, o.learner))
    _save_issues(cohort, outcomes)
    return outcomes


def outcomes_table(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [asdict(o) for o in outcomes]


def watch(
    cohort: Cohort,
    modules: list[str],
    interval: float = 60.0,
    cycles: int | None = None,
    workers: int | None = None,
    say: Any = print,
) -> int:
    """For self-paced cohorts: collect, grade and return feedback as submissions arrive, until
    stopped (Ctrl-C or SIGTERM) or after `cycles` rounds. Everything it knows comes from the
    folders and the gradebook, so it is safe to stop and start again at any time.
    Returns how many submissions it graded."""
    import signal
    import threading

    from privacy_course.facilitator.cohort import collect, feedback

    stop = threading.Event()
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
        except ValueError:  # not the main thread (tests): rely on `cycles`
            pass
    graded = 0
    done_cycles = 0
    try:
        while not stop.is_set():
            for module_id in modules:
                collect(cohort, module_id)
            outcomes = grade(cohort, modules, workers=workers, only_new=True,
                             progress=_Quiet())
            for outcome in outcomes:
                if outcome.ok:
                    feedback(cohort, outcome.module_id, outcome.learner)
                    say(f"graded and returned feedback: {outcome.learner} {outcome.module_id}")
                else:
                    say(f"PROBLEM: {outcome.learner} {outcome.module_id}: {outcome.problem}")
            graded += len(outcomes)
            done_cycles += 1
            if cycles is not None and done_cycles >= cycles:
                break
            stop.wait(interval)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return graded


class _Quiet:
    def step(self, outcome: Outcome) -> None:
        pass
