"""The learner's side of nbgrader's exchange, for tests: fetch, submit and fetch feedback as a
named learner (many simulated learners share one Unix account, so the learner id is explicit)."""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

from privacy_course.config import load_config
from privacy_course.start import exchange_step


def learner_config(course: Path, cohort: str, learner: str, folder: Path) -> Config:
    course_config = load_config(course)
    config = Config()
    config.CourseDirectory.course_id = cohort
    config.CourseDirectory.student_id = learner
    config.Exchange.root = course_config.Exchange.root
    config.Exchange.path_includes_course = True
    config.Exchange.assignment_dir = str(folder)
    return config


def fetch(course: Path, cohort: str, learner: str, folder: Path, module_id: str) -> Path:
    exchange_step("FetchAssignment", learner_config(course, cohort, learner, folder),
              module_id).start()
    return folder / cohort / module_id


def submit(course: Path, cohort: str, learner: str, folder: Path, module_id: str) -> None:
    exchange_step("Submit", learner_config(course, cohort, learner, folder),
              module_id).start()


def fetch_feedback(course: Path, cohort: str, learner: str, folder: Path,
                   module_id: str) -> list[Path]:
    exchange_step("FetchFeedback", learner_config(course, cohort, learner, folder),
              module_id).start()
    return sorted((folder / cohort / module_id / "feedback").rglob("*.html"))
