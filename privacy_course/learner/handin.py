"""Submitting a module from its page, and the feedback that comes back, in words.

The progress panel offers "Submit this module" once everything is done. The click runs
`privacy-course submit` (nbgrader's own exchange, through the course's command, so that the
learner's page never imports the grader): in a facilitator's cohort it hands the module in; in
self-study it also grades it at once and fetches the feedback. The answer is shown as a
sentence ("Submitted on 3 December 2026 at 14:05 UTC. ..."), and the latest hand-in is kept in
the learner's own folder (`.privacy-course/submissions.json`) so the page and the course home
can say so after a restart without asking the exchange.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any

import ipywidgets as w

from privacy_course.learner.home import latest_feedback
from privacy_course.learner.profile import PROFILE_DIR
from privacy_course.learner.responses import atomic_write_json

SUBMISSIONS_FILE = "submissions.json"
SUBMIT_TIMEOUT = 600  # seconds: self-study grading runs the whole module in the sandbox


def submissions_path(course_folder: Path) -> Path:
    return Path(course_folder) / PROFILE_DIR / SUBMISSIONS_FILE


def last_submission(module_folder: Path) -> dict[str, Any] | None:
    """The latest hand-in recorded for this module folder, or None."""
    try:
        data = json.loads(submissions_path(module_folder.parent).read_text(encoding="utf-8"))
        entry = data.get(module_folder.name)
        return entry if isinstance(entry, dict) else None
    except (OSError, ValueError, AttributeError):
        return None


def record_submission(module_folder: Path, result: dict[str, Any]) -> None:
    path = submissions_path(module_folder.parent)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[module_folder.name] = result
    atomic_write_json(path, data)


def when(iso: str) -> str:
    """"3 December 2026 at 14:05 UTC" from an ISO 8601 time."""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    zone = moment.tzname() or "UTC"
    return f"{moment.day} {moment:%B %Y} at {moment:%H:%M} {zone}"


def render_feedback(page: Path, score: float | None, max_score: float | None) -> str:
    """The feedback nbgrader returned, as the module page shows it: the score and, for each
    knowledge check, right or not, the right answer, why and the source."""
    from privacy_course.learner.feedback import teaching_notes
    from privacy_course.learner.pages import template_environment

    return template_environment().get_template("feedback.html.j2").render(
        notes=teaching_notes(page), score=score or 0.0, max_score=max_score or 0.0)


def run_submit(module_folder: Path) -> dict[str, Any]:
    """Run `privacy-course submit --json` for this module; its answer, or {"error": ...}."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "privacy_course.cli", "submit", str(module_folder), "--json"],
            cwd=module_folder, capture_output=True, text=True, timeout=SUBMIT_TIMEOUT)
    except subprocess.TimeoutExpired:
        return {"error": "Handing in took too long. Try again in a few minutes."}
    if done.returncode == 0:
        try:
            return dict(json.loads(done.stdout.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            pass
    lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
    reason = lines[-1] if lines else "the course's submit command gave no answer"
    return {"error": reason.removeprefix("privacy-course: ").removeprefix("error: ")}


class SubmitBox(w.VBox):
    """The panel's submit button and what it says about the hand-in and the feedback."""

    def __init__(self, module_folder: Path) -> None:
        super().__init__()
        self.folder = Path(module_folder)
        self.button = w.Button(description="Submit this module", button_style="primary",
                               tooltip="Hand this module in for grading")
        self.button.add_class("pc-submit")
        self.button.on_click(lambda _b: self.submit())
        self.message = w.HTML()
        self.message.add_class("pc-live")
        self.ready = False
        self.busy = False
        self.children = [self.message]

    def show(self, ready: bool) -> None:
        """Offer the button when everything is done; always say where the hand-in stands."""
        self.ready = ready
        self._render()

    def _render(self, note: str = "") -> None:
        entry = last_submission(self.folder)
        parts = [note] if note else []
        if entry and not note:
            parts.append(self._describe(entry))
        page, score, max_score = latest_feedback(self.folder, self.folder.name)
        if page is not None:
            parts.append(render_feedback(page, score, max_score))
        self.message.value = "".join(parts)
        self.button.description = "Submit again" if entry else "Submit this module"
        self.button.disabled = self.busy
        show_button = self.ready or bool(entry)
        self.children = [self.button, self.message] if show_button else [self.message]

    def _describe(self, entry: dict[str, Any]) -> str:
        if entry.get("error"):
            return (f"<p class='pc-problem' role='alert'>The module was not handed in: "
                    f"{escape(str(entry['error']))}</p>")
        text = [f"<p><strong>Submitted on {escape(when(str(entry.get('submitted_at', ''))))}"
                "</strong>"]
        if entry.get("resubmission"):
            text.append(" (this replaces your earlier submission for grading)")
        text.append(".</p>")
        if entry.get("graded"):
            text.append("<p>It has been graded: your feedback is below.</p>")
        elif entry.get("problem"):
            text.append("<p>It could not be graded here: "
                        f"{escape(str(entry['problem']))}</p>")
        else:
            text.append("<p>Your facilitator will return feedback; it will show here and on "
                        "the course home.</p>")
        return "".join(text)

    def submit(self) -> None:
        """Hand in, in the background (self-study grading takes a few seconds), and say how
        it went."""
        if self.busy:
            return
        self.busy = True
        self._render("<p>Handing in your module… this takes a few seconds.</p>")

        def work() -> None:
            result = run_submit(self.folder)
            if "error" in result:
                previous = last_submission(self.folder)
                self.busy = False
                self._render(self._describe(result) + (self._describe(previous)
                                                       if previous else ""))
                return
            self.busy = False  # `privacy-course submit` has recorded the hand-in
            self._render()

        threading.Thread(target=work, daemon=True).start()
