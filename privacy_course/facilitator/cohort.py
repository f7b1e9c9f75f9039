"""What a facilitator does with a cohort: create it from a roster, add learners, release,
collect, return feedback, purge.

A cohort's folders, configuration and gradebook are `privacy_course.coursedir.Cohort`'s; this
room acts on them. Everything here calls nbgrader's API; nothing re-implements its gradebook or
exchange.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privacy_course.authoring.build import module_ids
from privacy_course.coursedir import (
    COHORT_NAME,
    DB_URL_ENV,
    Cohort,
    CohortError,
    cohorts_folder,
    db_url_for,
    list_cohorts,
    open_cohort,
)
from privacy_course.facilitator.roster import Learner, read_roster
from privacy_course.record import load_record

log = logging.getLogger(__name__)

__all__ = ["COHORT_NAME", "DB_URL_ENV", "Cohort", "CohortError", "add_learners",
           "cohorts_folder", "collect", "create_cohort", "db_url_for", "due_changes",
           "due_dates", "feedback", "list_cohorts", "open_cohort", "purge", "release",
           "released", "submitted", "uncollected", "write_nbgrader_config"]

def _enable_wal(db_url: str) -> None:
    """SQLite in write-ahead-log mode lets readers (status, reports) work while graders write."""
    if db_url.startswith("sqlite:///"):
        path = db_url.removeprefix("sqlite:///").split("?")[0]
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")


@contextmanager
def _server(db_url: str) -> Iterator[tuple[Any, str]]:
    """A connection to the PostgreSQL server's own `postgres` database (CREATE and DROP
    DATABASE cannot run inside the cohort's database) and the cohort database's name."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            yield conn, url.database or ""
    finally:
        admin.dispose()


def _create_database(db_url: str) -> bool:
    """Create the cohort's PostgreSQL database if the server does not have it yet; say whether
    this call created it (only then may a failed creation drop it again)."""
    if not db_url.startswith("postgresql"):
        return False
    from sqlalchemy import text

    with _server(db_url) as (conn, name):
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                        {"n": name}).scalar():
            return False
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        return True


def _import_learners(cohort: Cohort, learners: list[Learner]) -> None:
    with cohort.gradebook() as gb:
        for learner in learners:
            gb.update_or_create_student(learner.id, first_name=learner.first_name,
                                        last_name=learner.last_name, email=learner.email)


def _enter_modules(cohort: Cohort) -> list[str]:
    """Put every module in the cohort's gradebook with nbgrader's generate step, writing its
    by-product release into a scratch folder so the committed release/ is never touched."""
    entered = []
    with tempfile.TemporaryDirectory() as scratch:
        config = cohort.config()
        config.CourseDirectory.release_directory = scratch
        api = cohort.api(config)
        for module_id in module_ids(cohort.root):
            result = api.generate_assignment(module_id, force=True, create=True)
            if not result.get("success"):
                raise CohortError(f"{cohort.name}: could not enter {module_id} in the gradebook:"
                                  f"\n{result.get('error') or result.get('log')}")
            entered.append(module_id)
    return entered


def create_cohort(root: Path, name: str, roster: Path, config: Any = None) -> Cohort:
    """Make a cohort from a roster. The roster is checked first; nothing is written unless it
    is clean, and a creation that fails part-way leaves nothing behind (folder, and a
    PostgreSQL database it had just created)."""
    if not COHORT_NAME.match(name):
        raise CohortError(f"cohort name {name!r}: use lower-case letters, digits and '-' "
                          "(at most 40), e.g. 'spring-2027'")
    cohort = Cohort(root, name, config)
    if cohort.info_path.exists():
        raise CohortError(f"cohort {name!r} already exists; use `cohort add-learners`")
    learners = read_roster(roster)
    db_url = cohort.db_url
    cohort.folder.mkdir(parents=True, exist_ok=True)
    created_database = False
    try:
        created_database = _create_database(db_url)
        with cohort.gradebook():
            pass
        _enable_wal(db_url)
        _enter_modules(cohort)
        _import_learners(cohort, learners)
    except BaseException:
        shutil.rmtree(cohort.folder, ignore_errors=True)
        if created_database:
            try:
                _drop_database(db_url)
            except Exception:  # the first error is the one to report
                log.exception("could not drop the half-made database of cohort %s", name)
        raise
    write_nbgrader_config(cohort)
    cohort.info_path.write_text(json.dumps({
        "name": name,
        "course_id": name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }, indent=1) + "\n", encoding="utf-8")
    return cohort


COHORT_NBGRADER_CONFIG = """\
# Written by `privacy-course cohort create`. nbgrader run in this folder (plain `nbgrader ...`,
# or the facilitator's formgrader) uses this cohort's course id, folders and gradebook:
# the course's grader_config.py plus the cohort's settings, as privacy-course computes them.
from pathlib import Path

from privacy_course.coursedir import Cohort

c = get_config()  # noqa: F821
c.merge(Cohort(Path({root!r}), {name!r}).config())
"""


def write_nbgrader_config(cohort: Cohort) -> Path:
    path = cohort.folder / "nbgrader_config.py"
    path.write_text(COHORT_NBGRADER_CONFIG.format(root=str(cohort.root), name=cohort.name),
                    encoding="utf-8")
    return path


def add_learners(root: Path, name: str, roster: Path, config: Any = None) -> list[Learner]:
    cohort = open_cohort(root, name, config)
    with cohort.gradebook() as gb:
        ids = {s.id for s in gb.students}
        emails = {s.email.lower() for s in gb.students if s.email}
    learners = read_roster(roster, existing_ids=ids, existing_emails=emails)
    _import_learners(cohort, learners)
    return learners


def _check_module(cohort: Cohort, module_id: str) -> None:
    known = module_ids(cohort.root)
    if module_id not in known:
        raise CohortError(f"no module {module_id!r}; modules are: {', '.join(known)}")


def _result(action: str, cohort: Cohort, module_id: str, result: dict[str, Any]) -> None:
    if not result.get("success"):
        raise CohortError(f"{cohort.name}: {action} {module_id} failed:\n"
                          f"{result.get('error') or result.get('log')}")


def release(cohort: Cohort, module_id: str, due: datetime | None = None,
            state: str | None = None) -> None:
    """Release a module to the cohort through the exchange (again, if it was already), and
    publish its due date beside it for the learners' course home, and the cohort's default state
    (`state`, or the one given at an earlier release) for its "Your state" sections."""
    from privacy_course.grading.intake import lock_inbound
    from privacy_course.learner.home import write_due
    from privacy_course.learner.your_state import remember_default_state, write_default_state

    _check_module(cohort, module_id)
    if due is not None:
        with cohort.gradebook() as gb:
            gb.update_or_create_assignment(module_id, duedate=due)
    due = due_dates(cohort, [module_id])[module_id]
    config = cohort.config()
    config.ExchangeReleaseAssignment.force = True
    _result("release", cohort, module_id, cohort.api(config).release_assignment(module_id))
    lock_inbound(Path(config.Exchange.root), cohort.name)
    outbound = Path(config.Exchange.root) / cohort.name / "outbound" / module_id
    write_due(outbound, due)
    write_default_state(outbound, remember_default_state(cohort.folder, state))


def collect(cohort: Cohort, module_id: str) -> list[str]:
    """Collect the latest submission of every learner from the exchange; return whose new (or
    newer) submission this took in."""
    _check_module(cohort, module_id)
    waiting = uncollected(cohort, module_id)
    _result("collect", cohort, module_id, cohort.nbgrader.collect(module_id, update=True))
    now = set(submitted(cohort, module_id))
    return [name for name in waiting if name in now]


def uncollected(cohort: Cohort, module_id: str) -> list[str]:
    """Who has handed in a submission of the module that waits in the exchange: newer than
    the one collected, or the first. Read with nbgrader's own collect step (which picks each
    learner's latest hand-in the same way), without copying anything; a hand-in the course's
    collect refuses (a name that is no learner's, another account's) does not count."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeError, ExchangeFactory

    config = cohort.config()
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = module_id
    step = ExchangeFactory(config=config).Collect(
        coursedir=coursedir, authenticator=Authenticator(config=config), config=config)
    try:
        step.init_src()
    except ExchangeError:  # nothing released to this cohort yet: no inbound folder
        return []
    refused = step.__dict__.get("_refused", {})
    waiting = []
    for record in step.src_records:
        if record["filename"] in refused:
            continue
        collected = cohort.submitted_at(module_id, record["username"])
        if collected is None or record["timestamp"] > collected:
            waiting.append(record["username"])
    return sorted(waiting)


def released(cohort: Cohort) -> list[str]:
    """The modules released to the cohort (in the exchange's outbound folder)."""
    outbound = Path(cohort.config().Exchange.root) / cohort.name / "outbound"
    return [m for m in module_ids(cohort.root) if (outbound / m).is_dir()]


def due_changes(cohort: Cohort, modules: list[str], due: datetime) -> list[tuple[str, datetime]]:
    """(module, its current due date) for each module whose due date `due` would replace."""
    return [(m, old) for m, old in due_dates(cohort, modules).items()
            if old is not None and old != due]


def due_dates(cohort: Cohort, modules: list[str]) -> dict[str, datetime | None]:
    """Each module's due date in the cohort's gradebook (UTC, as nbgrader keeps it)."""
    from nbgrader.api import MissingEntry

    dates: dict[str, datetime | None] = {}
    with cohort.gradebook() as gb:
        for module_id in modules:
            try:
                dates[module_id] = gb.find_assignment(module_id).duedate
            except MissingEntry:  # a module added after the cohort was created, never dated
                dates[module_id] = None
    return dates


def submitted(cohort: Cohort, module_id: str) -> list[str]:
    """Who has a collected submission of the module."""
    return cohort.submitted(module_id)


def feedback(cohort: Cohort, module_id: str, learner: str | None = None) -> dict[str, str]:
    """Write feedback for each graded submission and put it in the exchange for its learner to
    fetch; grader_config.py adds ClearHiddenTests to nbgrader's feedback step, so hidden tests
    never show. Returns, per learner who handed the module in, "" when her feedback went out,
    else why not, in plain words. One learner at a time: nbgrader's own run over the whole
    cohort stops with a traceback at the first submission that was never graded."""
    from privacy_course.record import failure_flag

    _check_module(cohort, module_id)
    learners = [learner] if learner else submitted(cohort, module_id)
    with cohort.gradebook() as gb:
        graded = _graded_learners(gb, module_id)
    issues = load_record(cohort.folder).get(module_id, {})
    api = cohort.nbgrader
    outcome: dict[str, str] = {}
    for name in learners:
        notebook = cohort.path("autograded", name, module_id) / f"{module_id}.ipynb"
        if name not in graded or not notebook.is_file():
            problem = issues[name].problem if name in issues else None
            outcome[name] = (f"it could not be graded: {problem}" if problem
                             else "it has not been graded yet (run grade first)")
            continue
        result = api.generate_feedback(module_id, name, force=True)
        if result.get("success"):
            result = api.release_feedback(module_id, name)
        outcome[name] = "" if result.get("success") else (
            f"its feedback could not be written: {failure_flag(result.get('error') or '')}")
    return outcome


def _graded_learners(gb: Any, module_id: str) -> set[str]:
    """Who has grades for the module (a failed autograde leaves a submission without any)."""
    from nbgrader.api import MissingEntry

    try:
        gb.find_assignment(module_id)
    except MissingEntry:
        return set()
    return {s.student.id for s in gb.assignment_submissions(module_id)
            if any(nb.grades for nb in s.notebooks)}


# Folders of a course that hold no learner data (the course's own content and tooling).
_NOT_LEARNER_DATA = {".git", ".venv", "modules", "source", "release", "states", "docs",
                     "privacy_course", "tests", "benchmarks", "deploy", "scripts", "node_modules"}


def purge(cohort: Cohort) -> dict[str, Any]:
    """Delete everything the course holds about a cohort's learners, and list what was removed.

    Removed: the gradebook (rows or database), the cohort's folder (submissions, grading,
    feedback, logs, quarantine), its exchange copies, nbgrader's local cache of submitted copies
    for the cohort (kept per computer account, and per learner where learners share this one),
    the learners' workspaces on this machine, and the reports and certificates written to the
    default reports folder. Then the course folder is searched for any file still naming one of
    the cohort's learners (id, e-mail or full name), outside the course's own content; those are
    listed under "remaining" for the facilitator to check, never deleted on a guess."""
    from privacy_course.learner.exchange import learner_caches

    config = cohort.config()
    identifiers: set[str] = set()
    learner_ids: list[str] = []
    report: dict[str, Any] = {"learners": 0, "submissions": 0, "files": 0, "removed": [],
                              "remaining": []}
    try:
        with cohort.gradebook() as gb:
            for student in gb.students:
                report["learners"] += 1
                learner_ids.append(student.id)
                identifiers.update(x for x in (student.id, student.email) if x)
                full = f"{student.first_name or ''} {student.last_name or ''}".strip()
                if " " in full:
                    identifiers.add(full)
    except Exception:  # a damaged gradebook must not block deletion
        log.warning("the gradebook of %s could not be read; purging anyway", cohort.name)
    report["submissions"] = sum(len(cohort.submitted(m)) for m in module_ids(cohort.root))
    cache = _nbgrader_cache(config)
    workspaces = cohort.root / "learner"
    places = [cohort.folder, Path(config.Exchange.root) / cohort.name, cache / cohort.name,
              workspaces / cohort.name,
              *(folder / cohort.name for folder in learner_caches(cache)),
              *(workspaces / learner / cohort.name for learner in learner_ids)]
    reports = cohort.root / "reports"
    if reports.is_dir():
        places += sorted(reports.glob(f"{cohort.name}-*"))
    if cohort.db_url.startswith("postgresql"):
        _drop_database(cohort.db_url)
        report["removed"].append(f"database {cohort.db_url.rsplit('/', 1)[-1]}")
    for place in places:
        if not (place.exists() or place.is_symlink()):
            continue
        if place.is_dir() and not place.is_symlink():
            report["files"] += sum(1 for p in place.rglob("*") if p.is_file())
            shutil.rmtree(place)
        else:
            report["files"] += 1
            place.unlink()
        report["removed"].append(str(place))
    for learner in learner_ids:  # a learner's own folder on this machine, once it holds no course
        folder = workspaces / learner
        if folder.is_dir() and not folder.is_symlink() and not any(
                not p.name.startswith(".") for p in folder.iterdir()):
            report["files"] += sum(1 for p in folder.rglob("*") if p.is_file())
            shutil.rmtree(folder)
            report["removed"].append(str(folder))
    report["remaining"] = [str(p) for p in _files_naming(cohort.root, identifiers)]
    return report


def _nbgrader_cache(config: Any) -> Path:
    """Where nbgrader keeps this account's copies of submitted notebooks (`Exchange.cache`)."""
    from nbgrader.exchange.default.exchange import Exchange

    return Path(Exchange(config=config).cache)


def _files_naming(root: Path, identifiers: set[str], limit_mb: int = 20) -> list[Path]:
    """Files under the course folder, outside its own content, that contain an identifier."""
    if not identifiers:
        return []
    needles = [i.lower().encode("utf-8") for i in identifiers if len(i) >= 3]
    found = []
    for current, dirs, names in os.walk(root):
        if Path(current) == root:
            dirs[:] = [d for d in dirs if d not in _NOT_LEARNER_DATA]
        for name in names:
            path = Path(current) / name
            try:
                if path.is_symlink() or path.stat().st_size > limit_mb * 1024 * 1024:
                    continue
                data = path.read_bytes().lower()
            except OSError:
                continue
            if any(needle in data for needle in needles):
                found.append(path)
    return found


def _drop_database(db_url: str) -> None:
    from sqlalchemy import text

    with _server(db_url) as (conn, name):
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
