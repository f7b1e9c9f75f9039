"""Completion: a module is complete for a learner when it was submitted, every scenario in it
was finished, and its auto-graded score reaches the pass mark (`CourseSettings.pass_mark` in
grader_config.py, 80% by default); the course is complete when every module is.

It is computed every time from the cohort's gradebook (scores, submission times, due dates), the
responses files that were graded and the grading record, never stored as a second truth that
could drift. Scenarios count by being finished, not by being right: they are formative (they
teach with immediate feedback), while the knowledge checks are the graded part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from privacy_course.authoring.build import module_ids
from privacy_course.authoring.content import ModuleContent, module_content
from privacy_course.coursedir import Cohort
from privacy_course.learner.responses import read_responses
from privacy_course.record import Flag, SubmissionRecord, load_record


class State(StrEnum):
    """Where a learner stands on one module; the value is the words `status` and reports show."""

    COMPLETE = "complete"
    BELOW_PASS = "below pass mark"
    SCENARIOS_UNFINISHED = "scenarios unfinished"
    NOT_GRADED = "submitted, not graded yet"
    PROBLEM = "could not be graded"
    NOT_SUBMITTED = "not submitted"
    # A newer submission was collected after the last grading: the old grade no longer counts.
    RESUBMITTED = "resubmitted, not graded yet"


COMPLETE = State.COMPLETE
BELOW_PASS = State.BELOW_PASS
SCENARIOS_UNFINISHED = State.SCENARIOS_UNFINISHED
NOT_GRADED = State.NOT_GRADED
PROBLEM = State.PROBLEM
NOT_SUBMITTED = State.NOT_SUBMITTED
RESUBMITTED = State.RESUBMITTED

SYMBOLS = {COMPLETE: "OK", BELOW_PASS: "low", SCENARIOS_UNFINISHED: "scn", NOT_GRADED: "...",
           PROBLEM: "!!", NOT_SUBMITTED: "-", RESUBMITTED: "re"}


@dataclass
class ModuleResult:
    learner: str
    module_id: str
    state: State
    score: float | None = None
    max_score: float | None = None
    submitted_at: datetime | None = None
    late: bool = False
    scenarios_done: int = 0
    scenarios_total: int = 0
    flags: list[Flag] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.state == COMPLETE


@dataclass
class LearnerRow:
    id: str
    first_name: str
    last_name: str
    email: str
    results: dict[str, ModuleResult]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.id

    @property
    def course_complete(self) -> bool:
        return all(r.complete for r in self.results.values())


def _scenarios(cohort: Cohort, learner: str, module_id: str,
               content: ModuleContent) -> tuple[int, int]:
    total = len(content.scenarios)
    for stage in ("autograded", "submitted"):
        path = cohort.path(stage, learner, module_id) / f"{module_id}.responses.json"
        if path.exists():
            data = read_responses(path, module_id).data
            done = sum(1 for sid in content.scenarios
                       if isinstance(data["scenarios"].get(sid), dict)
                       and data["scenarios"][sid].get("finished") is True)
            return done, total
    return 0, total


def graded_submissions(gb: Any, modules: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """{module: {learner: {"score", "max_score", "timestamp"}}} for every graded submission,
    in one grouped query.

    Why not nbgrader's `Gradebook.submission_dicts(module)`: each call aggregates the scores of
    every submission in the gradebook (its subqueries are not limited to the module), so one
    call per module took 0.8 s at 1,000 learners and over 10 s at 5,000 on SQLite. The sums use
    nbgrader's own `Grade.score` and `Grade.max_score` expressions, so the figures are
    nbgrader's; as there, a submission appears once it has grades."""
    from nbgrader.api import Assignment, Grade, SubmittedAssignment, SubmittedNotebook
    from sqlalchemy import func

    out: dict[str, dict[str, dict[str, Any]]] = {m: {} for m in modules}
    query = (gb.db.query(Assignment.name, SubmittedAssignment.student_id,
                         SubmittedAssignment.timestamp, func.sum(Grade.score),
                         func.sum(Grade.max_score))
             .select_from(SubmittedAssignment)
             .join(Assignment, SubmittedAssignment.assignment_id == Assignment.id)
             .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
             .join(Grade, Grade.notebook_id == SubmittedNotebook.id)
             .filter(Assignment.name.in_(modules))
             .group_by(SubmittedAssignment.id, Assignment.name, SubmittedAssignment.student_id,
                       SubmittedAssignment.timestamp))
    for module_id, learner, timestamp, score, max_score in query:
        out[module_id][learner] = {"score": float(score or 0.0),
                                   "max_score": float(max_score or 0.0),
                                   "timestamp": timestamp}
    return out


def completion(cohort: Cohort) -> list[LearnerRow]:
    """The learner x module completion table of a cohort."""
    pass_mark = cohort.settings.pass_mark
    modules = module_ids(cohort.root)
    issues = load_record(cohort.folder)
    with cohort.gradebook() as gb:
        learners = [(s.id, s.first_name or "", s.last_name or "", s.email or "")
                    for s in gb.students]
        by_module = graded_submissions(gb, modules)
        due = {}
        for module_id in modules:
            try:
                due[module_id] = gb.find_assignment(module_id).duedate
            except Exception:  # module not entered in this gradebook (added after creation)
                due[module_id] = None
    contents = {m: module_content(cohort.root / "source" / m, m) for m in modules}
    rows = []
    for learner_id, first, last, email in sorted(learners):
        results = {}
        for module_id in modules:
            results[module_id] = _result(cohort, learner_id, module_id, by_module[module_id],
                                         due[module_id], issues.get(module_id, {}), pass_mark,
                                         contents[module_id])
        rows.append(LearnerRow(learner_id, first, last, email, results))
    return rows


def _result(cohort: Cohort, learner: str, module_id: str, graded: dict, due: datetime | None,
            issues: dict[str, SubmissionRecord], pass_mark: float,
            content: ModuleContent) -> ModuleResult:
    folder = cohort.path("submitted", learner, module_id)
    collected = cohort.submitted_at(module_id, learner) if folder.is_dir() else None
    issue = issues.get(learner)
    earlier = False  # the record speaks of an older submission than the one collected now
    if issue and collected and issue.timestamp and issue.timestamp != collected.isoformat():
        issue, earlier = None, True
    flags = list(issue.flags) if issue else []
    if issue and issue.problem:
        flags.insert(0, issue.problem)
    late = bool(due and collected and collected > due)
    record = graded.get(learner)
    if issue and not issue.graded:
        return ModuleResult(learner, module_id, PROBLEM,
                            float(record["score"]) if record else None,
                            float(record["max_score"]) if record else None,
                            submitted_at=collected, late=late, flags=flags)
    if record is None or (collected and record["timestamp"] and collected > record["timestamp"]):
        # Not graded, or graded on an older submission than the one collected now: the old
        # grade no longer counts, so it is not shown as the learner's standing.
        state = (NOT_SUBMITTED if collected is None else
                 RESUBMITTED if record is not None or earlier else NOT_GRADED)
        return ModuleResult(learner, module_id, state, submitted_at=collected, late=late,
                            flags=flags)
    score, max_score = float(record["score"]), float(record["max_score"])
    submitted_at = record["timestamp"]
    late = bool(due and submitted_at and submitted_at > due)
    done, total = _scenarios(cohort, learner, module_id, content)
    if max_score <= 0 or score / max_score < pass_mark:
        state = BELOW_PASS
    elif done < total:
        state = SCENARIOS_UNFINISHED
    else:
        state = COMPLETE
    return ModuleResult(learner, module_id, state, score, max_score, submitted_at, late, done,
                        total, flags)
