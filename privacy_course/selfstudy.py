"""Self-study on one machine: a personal cohort of one, graded the moment a module is submitted.

A learner on a laptop has no facilitator. The first `privacy-course start` without `--cohort`
makes her a cohort of her own (named after the course, so her folders keep their usual place),
with her own gradebook, and releases every module to it. Submitting a module from its page then
runs `privacy-course submit`, which hands the module in through nbgrader's exchange and, in a
personal cohort, at once collects it, grades it in the same sandbox a facilitator's grading uses,
writes the feedback and fetches it back beside the module: she sees her score and the
explanations within seconds, and `privacy-course status` shows her own table.

In a facilitator's cohort, `submit` only hands the module in; grading is the facilitator's.
"""

from __future__ import annotations

import csv
import getpass
import json
import logging
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from traitlets.config import Config

from privacy_course.coursedir import Cohort
from privacy_course.errors import CourseError

PERSONAL_ENV = "PRIVACY_COURSE_PERSONAL"  # the course folder, set for a personal cohort's server
PERSONAL_FILE = "personal.json"
NO_SANDBOX = ("grading runs your module in a protected space, which needs a small system "
              "program called bubblewrap, not yet on this computer. Ask whoever set up "
              "the course to install it (on Debian or Ubuntu: sudo apt-get install bubblewrap), "
              "then press Submit again.")
log = logging.getLogger(__name__)
_NOT_ID = re.compile(r"[^A-Za-z0-9._-]+")


class SubmitError(CourseError, RuntimeError):
    """A module could not be handed in; the message says why in plain words."""


def personal_learner_id() -> str:
    """The learner id of this computer account: its user name, made roster-safe."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        name = ""
    name = _NOT_ID.sub("-", name).strip("-._")[:64]
    return name if name and name[0].isalnum() else "learner"


def is_personal(cohort: Cohort) -> bool:
    return (cohort.folder / PERSONAL_FILE).is_file()


def ensure_personal_cohort(root: Path, config: Config, learner_id: str) -> Cohort:
    """The personal cohort of this course folder, made on first use; every module built since
    is released to it (a course update brings new modules without losing anything)."""
    from privacy_course.authoring.build import module_ids
    from privacy_course.coursedir import open_cohort
    from privacy_course.facilitator.cohort import create_cohort, release, released

    name = str(config.CourseDirectory.course_id)
    try:
        cohort = open_cohort(root, name, config)
    except CourseError:
        with tempfile.TemporaryDirectory() as tmp:
            roster = Path(tmp) / "roster.csv"
            with roster.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.writer(fh)
                writer.writerow(["id", "first_name", "last_name", "email"])
                writer.writerow([learner_id, "Self-study", "learner",
                                 f"{learner_id}@self-study.invalid"])
            cohort = create_cohort(root, name, roster, config)
        (cohort.folder / PERSONAL_FILE).write_text(
            json.dumps({"learner": learner_id}) + "\n", encoding="utf-8")
    have = set(released(cohort))
    for module_id in module_ids(root):
        if module_id not in have and (root / "release" / module_id).is_dir():
            release(cohort, module_id)
    return cohort


@dataclass
class SubmitResult:
    """What `privacy-course submit` tells the module page (as JSON)."""

    module: str
    submitted_at: str  # ISO 8601, UTC
    resubmission: bool
    graded: bool = False
    score: float | None = None
    max_score: float | None = None
    feedback: str | None = None  # the feedback page, relative to the learner's server root
    problem: str | None = None  # why grading did not finish, in plain words

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def _learner_config(module_folder: Path) -> Config:
    """The learner's nbgrader configuration, as her server's Assignments panel loads it."""
    from privacy_course.learner.pages import nbgrader_config

    config = nbgrader_config(module_folder.parent.parent)
    config.Exchange.assignment_dir = str(module_folder.parent.parent)
    return config


def submit(module_folder: Path) -> SubmitResult:
    """Hand in the module whose folder this is (and grade it at once in a personal cohort)."""
    from nbgrader.exchange import ExchangeError

    from privacy_course.learner.exchange import exchange_step

    module_folder = module_folder.resolve()
    module_id = module_folder.name
    if not (module_folder / f"{module_id}.ipynb").is_file():
        raise SubmitError(f"{module_folder} is not a module folder (no {module_id}.ipynb)")
    from privacy_course.learner.handin import last_submission, record_submission

    config = _learner_config(module_folder)
    config.CourseDirectory.assignment_id = module_id
    before = last_submission(module_folder)
    try:
        exchange_step("Submit", config, module_id).start()
    except ExchangeError as exc:
        raise SubmitError(f"the module could not be handed in: {str(exc).strip() or exc}"
                          ) from exc
    result = SubmitResult(module_id, datetime.now(UTC).isoformat(timespec="seconds"),
                          resubmission=before is not None and not before.get("error"))
    root = os.environ.get(PERSONAL_ENV)
    if root:
        from privacy_course.grading.sandbox import SandboxUnavailable

        try:
            _grade_now(Path(root), config, module_folder, result)
        except SandboxUnavailable as exc:  # the hand-in stands; say what to do, in words
            log.warning("self-study grading: %s", exc)
            result.problem = NO_SANDBOX
        except CourseError as exc:
            result.problem = str(exc)
    record_submission(module_folder, asdict(result))
    return result


def _grade_now(root: Path, learner_config: Config, module_folder: Path,
               result: SubmitResult) -> None:
    """Collect, grade, write feedback and fetch it: the facilitator's cycle, for one."""
    from privacy_course.coursedir import open_cohort
    from privacy_course.facilitator.cohort import collect, feedback
    from privacy_course.grading.autograde import grade
    from privacy_course.learner.exchange import exchange_step
    from privacy_course.learner.home import latest_feedback

    cohort = open_cohort(root, str(learner_config.CourseDirectory.course_id))
    if not is_personal(cohort):
        return
    module_id = module_folder.name
    learner = str(learner_config.CourseDirectory.get("student_id") or personal_learner_id())
    collect(cohort, module_id)
    outcomes = [o for o in grade(cohort, [module_id], workers=1, only_new=False,
                                 progress=_Silent()) if o.learner == learner]
    if not outcomes or not outcomes[0].ok:
        result.problem = (str(outcomes[0].problem) if outcomes and outcomes[0].problem
                          else "it could not be graded")
        return
    problems = feedback(cohort, module_id, learner)
    if problems.get(learner):
        result.problem = problems[learner]
        return
    exchange_step("FetchFeedback", learner_config, module_id).start()
    page, score, max_score = latest_feedback(module_folder, module_id)
    result.graded = page is not None
    result.score, result.max_score = score, max_score
    if page is not None:
        result.feedback = str(page.relative_to(module_folder.parent.parent))


class _Silent:
    """A progress bar that prints nothing (the page shows its own)."""

    def step(self, outcome: Any) -> None:
        pass

    def close(self) -> None:
        pass
