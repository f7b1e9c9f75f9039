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
import logging
import multiprocessing
import os
import sys
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from traitlets.config import Config

from privacy_course.coursedir import Cohort
from privacy_course.grading.cores import memory_limit, usable_cores
from privacy_course.grading.intake import check_submitted, limits_from
from privacy_course.record import (
    BLOCKING,
    TRANSIENT,
    Flag,
    SubmissionRecord,
    failure_flag,
    load_record,
    notes_in,
    save_record,
    unique,
)

log = logging.getLogger(__name__)

# A failure that may not recur (a kernel or worker that died, an unexplained error) is tried
# again on the next `grade --watch` round or `grade` run, this many times in a row at most;
# after that it waits for the learner's next submission or `grade --all`.
RETRIES = 3
INTERRUPTED = "interrupted"  # the flag of a submission whose grading run was stopped
# A grading worker and its kernel together (deploy/README.md, "Sizing"), with headroom.
MEMORY_PER_WORKER = 400 * 2**20
LOGS = "logs"
# Test hook: a grading worker exits abruptly when it is given this learner's submission.
KILL_WORKER_ENV = "PRIVACY_COURSE_TEST_KILL_WORKER"


@dataclass(frozen=True)
class Outcome:
    module_id: str
    learner: str
    ok: bool
    problem: str = ""  # a Flag when grading failed
    notes: tuple[str, ...] = ()  # Flags
    log: str = ""  # the kept nbgrader log of a failed grading, relative to the cohort folder


_API: Any = None
_LIMITS: Any = None
_COHORT: Cohort | None = None


def _worker_init(root: str, name: str, config: Config, sandboxed: bool, level: int) -> None:
    """Set up one grading worker: the cohort on the parent's configuration (not loaded again),
    nbgrader's API with the sandboxed Execute, and logging at the parent's level."""
    global _API, _LIMITS, _COHORT
    import atexit
    import shutil
    import warnings

    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(levelname)s %(processName)s %(name)s: %(message)s")
    # nbgrader's own SQLAlchemy session warnings say nothing a facilitator can act on.
    warnings.filterwarnings("ignore", module=r"nbgrader\..*")

    cohort = Cohort(Path(root), name, config)
    config = cohort.config()
    settings = cohort.sandbox_settings
    # Always the limited Execute: it cuts runaway output and notes each limit a cell hits in
    # the graded notebook (privacy_course.record), sandboxed or not.
    config.LimitedExecute.output_kb = settings.output_kb
    config.Autograde.autograde_preprocessors = [
        "privacy_course.grading.sandbox.LimitedExecute" if p == "nbgrader.preprocessors.Execute"
        else p for p in config.Autograde.autograde_preprocessors]
    if sandboxed:
        from privacy_course.grading.sandbox import worker_setup

        folder = worker_setup(sandbox_limits(cohort))
        atexit.register(shutil.rmtree, folder, True)
        # The kernel speaks to nbgrader over Unix sockets: the sandbox has no network at all.
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(folder, "run", "kernel")
    if level > logging.DEBUG:
        # nbgrader's own log lines ("Released assignments", and a checksum warning for every
        # cell with hidden tests, jupyter/nbgrader#1961) tell a facilitator nothing to act on.
        # nbgrader's API still captures each run's log: a failed grading's is kept and read for
        # its flags; -vv shows them all as they happen.
        logging.getLogger("traitlets").propagate = False
    _API = cohort.api(config)
    _API.log.setLevel(logging.INFO if level <= logging.DEBUG else logging.WARNING)
    _LIMITS = limits_from(config)
    _COHORT = cohort


def sandbox_limits(cohort: Cohort) -> dict[str, Any]:
    """The sandbox's limits, as the kernel launcher reads them."""
    settings = cohort.sandbox_settings
    return {name: getattr(settings, name) for name in (
        "cpu_seconds", "memory_mb", "processes", "file_size_mb", "write_quota_mb",
        "submission_files", "submission_mb", "output_kb")}


def use_sandbox(cohort: Cohort, warn: Any = None) -> bool:
    """Whether grading runs in the restricted kernel. Refuses (raises SandboxUnavailable) when
    isolation is impossible, unless the facilitator opted out in grader_config.py."""
    from privacy_course.grading.sandbox import SandboxUnavailable, check_available

    settings = cohort.sandbox_settings
    warn = warn or log.warning
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
    from privacy_course.grading.integrity import inspect_submission

    cohort = _COHORT
    assert cohort is not None, "grading worker not initialised"
    if os.environ.get(KILL_WORKER_ENV) == learner:
        os._exit(70)
    folder = cohort.path("submitted", learner, module_id)
    refused = check_submitted(cohort.folder, learner, module_id, folder, _LIMITS)
    before = [*refused, *inspect_submission(cohort.root, folder, module_id)]
    try:
        result = _API.autograde(module_id, learner, force=True, create=True)
    except Exception:  # nbgrader normally reports failures in `result`; belt and braces
        result = {"success": False, "error": traceback.format_exc(), "log": ""}
    if result.get("success"):
        graded = cohort.path("autograded", learner, module_id) / f"{module_id}.ipynb"
        _log_path(cohort, module_id, learner).unlink(missing_ok=True)
        return Outcome(module_id, learner, True, notes=unique([*before, *_notes(graded)]))
    # When the folder itself was wrong, say so rather than quote nbgrader's traceback.
    blocking = [n for n in before if getattr(n, "code", "") in BLOCKING]
    error = (result.get("error") or "") + "\n" + (result.get("log") or "")
    problem = blocking[0] if blocking else failure_flag(error)
    kept = _keep_log(cohort, module_id, learner, result)
    return Outcome(module_id, learner, False, problem,
                   tuple(n for n in unique(before) if n != problem), kept)


def _notes(graded: Path) -> list[Flag]:
    try:
        return notes_in(json.loads(graded.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return []


def _log_path(cohort: Cohort, module_id: str, learner: str) -> Path:
    return cohort.folder / LOGS / module_id / f"{learner}.log"


def _keep_log(cohort: Cohort, module_id: str, learner: str, result: dict[str, Any]) -> str:
    """Keep a failed grading's whole nbgrader log (only its last line fits in a table)."""
    path = _log_path(cohort, module_id, learner)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{result.get('log') or ''}\n{result.get('error') or ''}\n",
                        encoding="utf-8")
    except OSError:
        log.exception("could not keep the grading log of %s %s", learner, module_id)
        return ""
    return str(path.relative_to(cohort.folder))


def tasks_for(cohort: Cohort, modules: list[str], only_new: bool = False) -> list[tuple[str, str]]:
    """(module, learner) for every submission; with `only_new`, those not graded since they
    were last submitted, and those whose last grading failed for a reason that may pass."""
    record = load_record(cohort.folder) if only_new else {}
    tasks = []
    for module_id in modules:
        learners = cohort.submitted(module_id)
        current = cohort.nbgrader.get_autograded_students(module_id) if only_new else set()
        for learner in learners:
            if only_new and _up_to_date(cohort, module_id, learner,
                                        record.get(module_id, {}).get(learner), current):
                continue
            tasks.append((module_id, learner))
    return tasks


def _stamp(cohort: Cohort, module_id: str, learner: str) -> str:
    """The submission's timestamp as nbgrader reads it, in one stable text form."""
    when = cohort.submitted_at(module_id, learner)
    return when.isoformat() if when else ""


def _up_to_date(cohort: Cohort, module_id: str, learner: str, entry: SubmissionRecord | None,
                graded_now: set[str]) -> bool:
    if entry is not None and entry.timestamp == _stamp(cohort, module_id, learner):
        if entry.problem is not None and entry.problem.code == INTERRUPTED:
            return False  # a run was stopped while grading it (see `_mark_started`)
        if entry.graded:
            return learner in graded_now
        transient = entry.problem is not None and entry.problem.code in TRANSIENT
        return not (transient and entry.failures < RETRIES)
    return learner in graded_now


def _mark_started(cohort: Cohort, tasks: list[tuple[str, str]]) -> None:
    """Record every submission about to be graded as interrupted, until its outcome replaces
    that (`_save`). nbgrader writes the autograded folder, timestamp included, before the
    notebook runs, so a run killed part-way leaves submissions that look graded, with a
    half-finished run's scores: the mark is what sends them to grading again."""
    record = load_record(cohort.folder)
    for module_id, learner in tasks:
        previous = record.get(module_id, {}).get(learner)
        stamp = _stamp(cohort, module_id, learner)
        record.setdefault(module_id, {})[learner] = SubmissionRecord(
            problem=Flag(INTERRUPTED), graded=False, timestamp=stamp,
            failures=previous.failures if previous is not None
            and previous.timestamp == stamp else 0)
    save_record(cohort.folder, record)


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


def _save(cohort: Cohort, outcomes: list[Outcome]) -> None:
    """Put this run's outcomes in the cohort's grading record (a clean pass leaves none)."""
    record = load_record(cohort.folder)
    for outcome in outcomes:
        per_module = record.setdefault(outcome.module_id, {})
        previous = per_module.get(outcome.learner)
        stamp = _stamp(cohort, outcome.module_id, outcome.learner)
        if outcome.ok and not outcome.notes:
            per_module.pop(outcome.learner, None)
            continue
        failures = 0
        if not outcome.ok:
            failures = 1 + (previous.failures if previous is not None and not previous.graded
                            and previous.timestamp == stamp else 0)
        per_module[outcome.learner] = SubmissionRecord(
            problem=outcome.problem if isinstance(outcome.problem, Flag) else None,
            flags=[n for n in outcome.notes if isinstance(n, Flag)], graded=outcome.ok,
            timestamp=stamp, failures=failures, log=outcome.log)
    save_record(cohort.folder, record)


def default_workers() -> int:
    """One grading worker per usable core, plus one. Why the extra one: a worker spends about
    half of each submission waiting for its kernel (starting, answering, shutting down, with
    jupyter_client polling every 0.1 s), so one per core leaves cores idle. Measured on 2 cores
    with 20 submissions, median of 3: 2 workers 22.0 s, 3 workers 20.4 s, 4 workers 22.3 s.
    Cores and memory are the cgroup's (a hub server's CPU quota and memory limit), not the
    host's: each worker with its kernel holds about 320 MiB, so a worker needs 400 MiB."""
    workers = usable_cores() + 1
    memory = memory_limit()
    if memory is not None:
        workers = min(workers, max(1, memory // MEMORY_PER_WORKER))
    return workers


def grade(
    cohort: Cohort,
    modules: list[str],
    workers: int | None = None,
    only_new: bool = False,
    progress: Any = None,
) -> list[Outcome]:
    """Grade the cohort's submissions of `modules`; return one outcome per submission.

    A worker that dies (killed, out of memory) breaks Python's process pool and every
    submission still waiting in it; those are graded again in a fresh pool, and when a pool
    breaks a second time, one at a time, so that only the submission that kills its worker is
    reported as such."""
    tasks = tasks_for(cohort, modules, only_new)
    if not tasks:
        return []
    _mark_started(cohort, tasks)
    workers = max(1, min(workers or default_workers(), len(tasks)))
    sandboxed = use_sandbox(cohort)
    bar = progress if progress is not None else Progress(len(tasks))
    init = (str(cohort.root), cohort.name, cohort.base_config, sandboxed,
            logging.getLogger("privacy_course").getEffectiveLevel())
    outcomes: dict[tuple[str, str], Outcome] = {}
    waiting = list(tasks)
    for attempt in range(3):
        if not waiting:
            break
        if attempt < 2:
            waiting = _run_pool(waiting, workers, init, outcomes, bar)
        else:
            for task in waiting:  # one at a time: whoever still breaks a pool is named
                left = _run_pool([task], 1, init, outcomes, bar)
                for module_id, learner in left:
                    outcome = Outcome(module_id, learner, False,
                                      Flag("worker-died", kind="BrokenProcessPool"))
                    outcomes[(module_id, learner)] = outcome
                    bar.step(outcome)
            waiting = []
    result = sorted(outcomes.values(), key=lambda o: (o.module_id, o.learner))
    _save(cohort, result)
    return result


def _run_pool(tasks: list[tuple[str, str]], workers: int, init: tuple[Any, ...],
              outcomes: dict[tuple[str, str], Outcome], bar: Any) -> list[tuple[str, str]]:
    """Grade `tasks` in one pool; return those it could not finish because the pool broke."""
    # "spawn": nbgrader's kernels and zmq sockets must not be inherited through fork.
    context = multiprocessing.get_context("spawn")
    unfinished: list[tuple[str, str]] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_worker_init, initargs=init) as pool:
        futures = {pool.submit(_grade_one, m, learner): (m, learner) for m, learner in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                outcome = future.result()
            except BrokenProcessPool:
                unfinished.append(task)
                continue
            except Exception as exc:  # an error in our own code for this one submission
                log.exception("grading %s %s failed", task[1], task[0])
                outcome = Outcome(task[0], task[1], False,
                                  Flag("worker-died", kind=exc.__class__.__name__))
            outcomes[task] = outcome
            bar.step(outcome)
    if unfinished:
        log.warning("a grading worker died; %d submission(s) are graded again", len(unfinished))
    return sorted(unfinished)


def outcomes_table(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    return [asdict(o) for o in outcomes]


class _Quiet:
    def step(self, outcome: Outcome) -> None:
        pass
