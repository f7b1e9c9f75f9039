"""The learner's side of nbgrader's exchange, for tests: fetch, submit and fetch feedback as a
named learner (many simulated learners share one Unix account, so the learner id is explicit)."""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

from privacy_course.config import load_config


def learner_config(course: Path, cohort: str, learner: str, folder: Path) -> Config:
    course_config = load_config(course)
    config = Config()
    config.CourseDirectory.course_id = cohort
    config.CourseDirectory.student_id = learner
    config.Exchange.root = course_config.Exchange.root
    config.Exchange.path_includes_course = True
    config.Exchange.assignment_dir = str(folder)
    return config


def _exchange(kind: str, config: Config, module_id: str):
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory

    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = module_id
    factory = ExchangeFactory(config=config)
    return getattr(factory, kind)(coursedir=coursedir, config=config,
                                  authenticator=Authenticator(config=config))


def fetch(course: Path, cohort: str, learner: str, folder: Path, module_id: str) -> Path:
    _exchange("FetchAssignment", learner_config(course, cohort, learner, folder),
              module_id).start()
    return folder / cohort / module_id


def submit(course: Path, cohort: str, learner: str, folder: Path, module_id: str) -> None:
    _exchange("Submit", learner_config(course, cohort, learner, folder),
              module_id).start()


def fetch_feedback(course: Path, cohort: str, learner: str, folder: Path,
                   module_id: str) -> list[Path]:
    _exchange("FetchFeedback", learner_config(course, cohort, learner, folder),
              module_id).start()
    return sorted((folder / cohort / module_id / "feedback").rglob("*.html"))
