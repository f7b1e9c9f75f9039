"""A cohort's configuration, folders and gradebook, as nbgrader's own CourseDirectory sees them.

A cohort is an nbgrader course of its own: its `course_id` is the cohort's name, its working
folders (`submitted/`, `autograded/`, `feedback/`, named by `c.CourseDirectory` in the one
configuration) live in `cohorts/<name>/`, and its gradebook is `cohorts/<name>/gradebook.db` (or
a PostgreSQL database named after it). The course's `source/` and `release/` trees are shared by
every cohort, and so is the exchange, which keeps cohorts apart by course id.

Everything that needs a cohort's paths asks this room, which asks nbgrader
(`CourseDirectory.format_path`, `NbGraderAPI.get_submitted_students`), so a folder renamed in
`grader_config.py` is renamed everywhere at once. `grader_config.py` is loaded once per `Cohort`
(a command makes one) and every function below is handed that cohort rather than loading it again.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any

from traitlets.config import Config

from privacy_course.config import (
    ConfigError,
    CourseSettings,
    SandboxSettings,
    course_settings,
    load_config,
)
from privacy_course.errors import CourseError

COHORT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
DB_URL_ENV = "PRIVACY_COURSE_DB_URL"


class CohortError(CourseError, RuntimeError):
    """A cohort command cannot go on; the message says which cohort and why."""


def cohorts_folder(root: Path) -> Path:
    return root / "cohorts"


def db_url_for(root: Path, name: str, config: Config | None = None) -> str:
    """The cohort's gradebook URL. `PRIVACY_COURSE_DB_URL` (or `CourseSettings.cohort_db_url`
    in grader_config.py) is a template such as `postgresql+psycopg://grader@db/privacy_{cohort}`;
    without one, each cohort has its own SQLite file."""
    config = config if config is not None else load_config(root)
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
    """One cohort: its name, the course folder, and the course configuration loaded once."""

    root: Path
    name: str
    course_config: Config | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    @cached_property
    def base_config(self) -> Config:
        """grader_config.py as loaded (once) for this cohort's command."""
        return self.course_config if self.course_config is not None else load_config(self.root)

    @cached_property
    def settings(self) -> CourseSettings:
        return CourseSettings(config=self.base_config)

    @cached_property
    def sandbox_settings(self) -> SandboxSettings:
        return SandboxSettings(config=self.base_config)

    @cached_property
    def time_zone(self) -> tzinfo:
        """The zone due dates are written and shown in (`CourseSettings.time_zone`)."""
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        name = self.settings.time_zone
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"{self.root / 'grader_config.py'}: c.CourseSettings.time_zone = {name!r} is "
                "not a time zone name; use one such as 'America/Chicago', 'America/New_York' "
                "or 'UTC'") from None

    @cached_property
    def db_url(self) -> str:
        return db_url_for(self.root, self.name, self.base_config)

    @property
    def folder(self) -> Path:
        return cohorts_folder(self.root) / self.name

    @property
    def info_path(self) -> Path:
        return self.folder / "cohort.json"

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = json.loads(self.info_path.read_text(encoding="utf-8"))
        return info

    def config(self) -> Config:
        """A fresh copy of the course configuration with this cohort's course id, folders and
        gradebook (a copy: callers may change it for one step)."""
        config = copy.deepcopy(self.base_config)
        config.CourseDirectory.root = str(self.folder)
        config.CourseDirectory.course_id = self.name
        config.CourseDirectory.source_directory = str(self.root / "source")
        config.CourseDirectory.release_directory = str(self.root / "release")
        config.CourseDirectory.db_url = self.db_url
        return config

    @cached_property
    def coursedir(self) -> Any:
        """nbgrader's CourseDirectory for this cohort: where every folder is."""
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config())

    def path(self, step: str, learner: str, module_id: str) -> Path:
        """The folder of one learner's module at an nbgrader step ("submitted", "autograded",
        "feedback"), as the configuration names it."""
        coursedir = self.coursedir
        return Path(coursedir.format_path(getattr(coursedir, f"{step}_directory"), learner,
                                          module_id))

    def api(self, config: Config | None = None) -> Any:
        """nbgrader's API on this cohort (on `config`, a changed copy, when given)."""
        from nbgrader.apps import NbGraderAPI

        config = config if config is not None else self.config()
        Path(config.Exchange.root).mkdir(parents=True, exist_ok=True)
        return NbGraderAPI(config=config)

    @cached_property
    def nbgrader(self) -> Any:
        """One API instance for the reads this command makes."""
        return self.api()

    def submitted(self, module_id: str) -> list[str]:
        """Who has a collected submission of the module, as nbgrader sees the folders."""
        return sorted(self.nbgrader.get_submitted_students(module_id))

    def submitted_at(self, module_id: str, learner: str) -> datetime | None:
        """When a collected submission was handed in (nbgrader's own timestamp reader)."""
        when: datetime | None = self.nbgrader.get_submitted_timestamp(module_id, learner)
        return when

    @contextmanager
    def gradebook(self) -> Iterator[Any]:
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url, self.name) as gb:
            yield gb

    def learner_ids(self) -> list[str]:
        with self.gradebook() as gb:
            return sorted(s.id for s in gb.students)


def open_cohort(root: Path, name: str, config: Config | None = None) -> Cohort:
    """An existing cohort; the error lists the cohorts there are."""
    cohort = Cohort(root, name, config)
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
