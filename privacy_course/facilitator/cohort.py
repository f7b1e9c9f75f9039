"""Cohorts: one group of learners taking the course together, on nbgrader's own machinery.

A cohort is an nbgrader course of its own: its `course_id` is the cohort's name, its working
folders (`submitted/`, `autograded/`, `feedback/`) live in `cohorts/<name>/`, and its gradebook
is `cohorts/<name>/gradebook.db` (or a PostgreSQL database named after it). The course's built
`source/` and `release/` trees are shared by every cohort, and so is the exchange, which keeps
each cohort apart by course id (`Exchange.path_includes_course`). Everything here calls
nbgrader's API; nothing re-implements its gradebook or exchange.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from traitlets.config import Config

from privacy_course.authoring.build import module_ids
from privacy_course.config import ConfigError, course_settings, load_config
from privacy_course.facilitator.roster import Learner, read_roster

COHORT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
DB_URL_ENV = "PRIVACY_COURSE_DB_URL"


class CohortError(RuntimeError):
    """A cohort command cannot go on; the message says which cohort and why."""


def cohorts_folder(root: Path) -> Path:
    return root / "cohorts"


def db_url_for(root: Path, name: str, config: Config | None = None) -> str:
    """The cohort's gradebook URL. `PRIVACY_COURSE_DB_URL` (or `CourseSettings.cohort_db_url`
    in grader_config.py) is a template such as `postgresql+psycopg://grader@db/privacy_{cohort}`;
    without one, each cohort has its own SQLite file."""
    config = config or load_config(root)
    template = os.environ.get(DB_URL_ENV) or course_settings(config).cohort_db_url
    if not template:
        path = cohorts_folder(root) / name / "gradebook.db"
        # Parallel graders wait for each other's short writes instead of failing with
        # "database is locked".
        return f"sqlite:///{path}?timeout=120"
    if "{cohort}" not in template:
        raise ConfigError(
            f"the gradebook URL template {template!r} must contain {{cohort}} so that each "
            "cohort has its own database (purging one must never touch another)")
    return template.format(cohort=name.replace("-", "_"))


@dataclass
class Cohort:
    root: Path
    name: str

    @property
    def folder(self) -> Path:
        return cohorts_folder(self.root) / self.name

    @property
    def info_path(self) -> Path:
        return self.folder / "cohort.json"

    def info(self) -> dict[str, Any]:
        return json.loads(self.info_path.read_text(encoding="utf-8"))

    def config(self) -> Config:
        """The course configuration with this cohort's course id, folders and gradebook."""
        config = load_config(self.root)
        config.CourseDirectory.root = str(self.folder)
        config.CourseDirectory.course_id = self.name
        config.CourseDirectory.source_directory = str(self.root / "source")
        config.CourseDirectory.release_directory = str(self.root / "release")
        config.CourseDirectory.db_url = db_url_for(self.root, self.name, config)
        return config

    def api(self, config: Config | None = None) -> Any:
        from nbgrader.apps import NbGraderAPI

        config = config or self.config()
        Path(config.Exchange.root).mkdir(parents=True, exist_ok=True)
        return NbGraderAPI(config=config)

    @contextmanager
    def gradebook(self) -> Iterator[Any]:
        from nbgrader.api import Gradebook

        with Gradebook(db_url_for(self.root, self.name), self.name) as gb:
            yield gb

    def learner_ids(self) -> list[str]:
        with self.gradebook() as gb:
            return sorted(s.id for s in gb.students)


def open_cohort(root: Path, name: str) -> Cohort:
    cohort = Cohort(root, name)
    if not cohort.info_path.is_file():
        known = ", ".join(c["name"] for c in list_cohorts(root)) or "none yet"
        raise CohortError(f"no cohort named {name!r} in {cohorts_folder(root)} (cohorts: {known})")
    return cohort


def list_cohorts(root: Path) -> list[dict[str, Any]]:
    folder = cohorts_folder(root)
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(folder.glob("*/cohort.json"))]


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
            yield conn, url.database
    finally:
        admin.dispose()


def _create_database(db_url: str) -> None:
    """Create the cohort's PostgreSQL database if the server does not have it yet."""
    if not db_url.startswith("postgresql"):
        return
    from sqlalchemy import text

    with _server(db_url) as (conn, name):
        if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).scalar():
            conn.execute(text(f'CREATE DATABASE "{name}"'))


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


def create_cohort(root: Path, name: str, roster: Path) -> Cohort:
    """Make a cohort from a roster. The roster is checked first; nothing is written unless it
    is clean."""
    if not COHORT_NAME.match(name):
        raise CohortError(f"cohort name {name!r}: use lower-case letters, digits and '-' "
                          "(at most 40), e.g. 'spring-2027'")
    cohort = Cohort(root, name)
    if cohort.info_path.exists():
        raise CohortError(f"cohort {name!r} already exists; use `cohort add-learners`")
    learners = read_roster(roster)
    db_url = db_url_for(root, name)
    cohort.folder.mkdir(parents=True, exist_ok=True)
    try:
        _create_database(db_url)
        with cohort.gradebook():
            pass
        _enable_wal(db_url)
        _enter_modules(cohort)
        _import_learners(cohort, learners)
    except BaseException:
        shutil.rmtree(cohort.folder, ignore_errors=True)
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

from privacy_course.facilitator.cohort import Cohort

c = get_config()  # noqa: F821
c.merge(Cohort(Path({root!r}), {name!r}).config())
"""


def write_nbgrader_config(cohort: Cohort) -> Path:
    path = cohort.folder / "nbgrader_config.py"
    path.write_text(COHORT_NBGRADER_CONFIG.format(root=str(cohort.root), name=cohort.name),
                    encoding="utf-8")
    return path


def add_learners(root: Path, name: str, roster: Path) -> list[Learner]:
    cohort = open_cohort(root, name)
    learners = read_roster(roster, existing_ids=set(cohort.learner_ids()))
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


def release(cohort: Cohort, module_id: str, due: datetime | None = None) -> None:
    """Release a module to the cohort through the exchange (again, if it was already)."""
    _check_module(cohort, module_id)
    if due is not None:
        with cohort.gradebook() as gb:
            gb.update_or_create_assignment(module_id, duedate=due)
    config = cohort.config()
    config.ExchangeReleaseAssignment.force = True
    _result("release", cohort, module_id, cohort.api(config).release_assignment(module_id))
    from privacy_course.grading.intake import lock_inbound

    lock_inbound(Path(config.Exchange.root), cohort.name)


def collect(cohort: Cohort, module_id: str) -> list[str]:
    """Collect the latest submission of every learner from the exchange; return who submitted."""
    _check_module(cohort, module_id)
    api = cohort.api()
    _result("collect", cohort, module_id, api.collect(module_id, update=True))
    return submitted(cohort, module_id)


def submitted(cohort: Cohort, module_id: str) -> list[str]:
    folder = cohort.folder / "submitted"
    if not folder.is_dir():
        return []
    return sorted(p.parent.name for p in folder.glob(f"*/{module_id}") if p.is_dir())


def feedback(cohort: Cohort, module_id: str, learner: str | None = None) -> dict[str, str]:
    """Write feedback for each graded submission and put it in the exchange for its learner to
    fetch; grader_config.py adds ClearHiddenTests to nbgrader's feedback step, so hidden tests
    never show. Returns, per learner who handed the module in, "" when her feedback went out,
    else why not, in plain words. One learner at a time: nbgrader's own run over the whole
    cohort stops with a traceback at the first submission that was never graded."""
    from privacy_course.grading.autograde import explain, load_issues

    _check_module(cohort, module_id)
    learners = [learner] if learner else submitted(cohort, module_id)
    with cohort.gradebook() as gb:
        graded = _graded_learners(gb, module_id)
    issues = load_issues(cohort).get(module_id, {})
    api = cohort.api()
    outcome: dict[str, str] = {}
    for name in learners:
        notebook = cohort.folder / "autograded" / name / module_id / f"{module_id}.ipynb"
        if name not in graded or not notebook.is_file():
            problem = issues.get(name, {}).get("problem")
            outcome[name] = (f"it could not be graded: {problem}" if problem
                             else "it has not been graded yet (run grade first)")
            continue
        result = api.generate_feedback(module_id, name, force=True)
        if result.get("success"):
            result = api.release_feedback(module_id, name)
        outcome[name] = "" if result.get("success") else (
            "its feedback could not be written: "
            + explain((result.get("error") or "") + "\n" + (result.get("log") or "")))
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


def purge(cohort: Cohort) -> dict[str, int]:
    """Delete everything the course holds about a cohort's learners: the gradebook (rows or
    database), submitted, graded and feedback folders, and the cohort's exchange copies.
    Returns what was removed, to report to the facilitator."""
    report = {"learners": 0, "submissions": 0, "files": 0}
    try:
        report["learners"] = len(cohort.learner_ids())
    except Exception:  # a damaged gradebook must not block deletion
        pass
    report["submissions"] = sum(1 for _ in (cohort.folder / "submitted").glob("*/*"))
    config = cohort.config()
    exchange = Path(config.Exchange.root) / cohort.name
    for tree in (cohort.folder, exchange):
        if tree.exists():
            report["files"] += sum(1 for p in tree.rglob("*") if p.is_file())
    db_url = db_url_for(cohort.root, cohort.name, config)
    if db_url.startswith("postgresql"):
        _drop_database(db_url)
    if exchange.exists():
        shutil.rmtree(exchange)
    shutil.rmtree(cohort.folder)
    return report


def _drop_database(db_url: str) -> None:
    from sqlalchemy import text

    with _server(db_url) as (conn, name):
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
