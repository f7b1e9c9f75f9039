"""What the course home shows a learner: each module's title, time, state and score.

Everything is read from what the learner's own account can see: the module notebooks fetched
into their folder, the responses file beside each (what they have done), nbgrader's local record
of their submissions (the exchange's cache) and the feedback nbgrader returned into the module
folder (the score). Nothing here reads a facilitator's gradebook, and nothing here writes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from privacy_course.authoring.content import module_content
from privacy_course.learner.responses import read_responses, responses_path

MODULE_ID = re.compile(r"^m\d\d-[a-z0-9-]+$")
TIME = re.compile(r"\*\*Time:\*\*\s*about\s+(\d+)\s+minutes", re.IGNORECASE)
WORK_PRODUCT = re.compile(r"work_product\(\s*['\"][^'\"]+['\"]\s*,\s*['\"]([^'\"]+)['\"]")
SCORE = re.compile(r"\(Score:\s*([0-9.]+)\s*/\s*([0-9.]+)\)")

# The due date a facilitator set, published beside the released module in the exchange (and so
# readable by every learner of the cohort): `<exchange>/<cohort>/outbound/<module>/.due.json`.
DUE_FILE = ".due.json"

NOT_STARTED = "Not started"
IN_PROGRESS = "In progress"
DONE = "Ready to submit"
SUBMITTED = "Submitted"
GRADED = "Graded"


@dataclass
class ModuleState:
    """One row of the course home."""

    module_id: str
    title: str
    minutes: int | None
    notebook: Path
    state: str = NOT_STARTED
    done: int = 0
    total: int = 0
    score: float | None = None
    max_score: float | None = None
    submitted_at: str | None = None
    feedback: Path | None = None
    problem: str | None = None
    missing: list[str] = field(default_factory=list)
    due: datetime | None = None


class SavedAnswers:
    """The reading side of a responses store, without the store's repair of a damaged file
    (the course home only looks; the module page repairs when it opens)."""

    def __init__(self, module_id: str, folder: Path) -> None:
        self.path = responses_path(module_id, folder)
        result = read_responses(self.path, module_id)
        self.data = result.data
        self.problem = result.problem if self.path.exists() else None
        self.started = self.path.exists()

    def answer(self, key: str, default: Any = None) -> Any:
        return self.data["answers"].get(key, default)

    def scenario(self, scenario_id: str) -> dict[str, Any]:
        return self.data["scenarios"].get(scenario_id, {"trail": [], "finished": False})


def module_notebooks(course_folder: Path) -> list[Path]:
    """The module notebooks in a learner's course folder, in module order."""
    found = [folder / f"{folder.name}.ipynb" for folder in sorted(course_folder.iterdir())
             if folder.is_dir() and MODULE_ID.match(folder.name)] if course_folder.is_dir() else []
    return [path for path in found if path.is_file()]


def _header(notebook: Path) -> tuple[str, int | None, list[str]]:
    """(title, minutes, work-product file names) read from the notebook's own text."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    title, minutes, products = notebook.stem, None, []
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", []))
        if cell.get("cell_type") == "markdown":
            heading = next((line[2:].strip() for line in source.splitlines()
                            if line.startswith("# ")), None)
            if heading and title == notebook.stem:
                title = heading
            found = TIME.search(source)
            if found and minutes is None:
                minutes = int(found.group(1))
        else:
            products += WORK_PRODUCT.findall(source)
    return title, minutes, products


def module_title(notebook: Path) -> str:
    """A module's title as its notebook's first heading gives it (also on reports and
    certificates, which name modules by title, not id)."""
    return _header(notebook)[0]


def write_due(released: Path, due: datetime | None) -> None:
    """Publish (or withdraw) a module's due date beside its released copy. `due` is UTC."""
    path = released / DUE_FILE
    if due is None:
        path.unlink(missing_ok=True)
        return
    path.write_text(json.dumps({"due_utc": due.isoformat(timespec="minutes")}) + "\n",
                    encoding="utf-8")
    path.chmod(0o644)


def read_due(released: Path) -> datetime | None:
    """A module's published due date (UTC), or None when there is none or it is unreadable."""
    try:
        data = json.loads((released / DUE_FILE).read_text(encoding="utf-8"))
        return datetime.fromisoformat(str(data["due_utc"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def latest_feedback(module_folder: Path, module_id: str) -> tuple[Path | None, float | None,
                                                                   float | None]:
    """The newest feedback page nbgrader returned for this module and the score it states."""
    pages = sorted((module_folder / "feedback").glob(f"*/{module_id}.html"))
    if not pages:
        return None, None, None
    found = SCORE.search(pages[-1].read_text(encoding="utf-8", errors="replace"))
    if not found:
        return pages[-1], None, None
    return pages[-1], float(found.group(1)), float(found.group(2))


def module_state(notebook: Path, submitted: dict[str, str] | None = None) -> ModuleState:
    """One module's row: its state from the responses file, submission and feedback."""
    from privacy_course.learner.widgets import progress_summary

    folder = notebook.parent
    module_id = folder.name
    title, minutes, products = _header(notebook)
    row = ModuleState(module_id, title, minutes, notebook)
    saved = SavedAnswers(module_id, folder)
    summary = progress_summary(module_content(folder, module_id), saved,  # type: ignore[arg-type]
                               products[-1] if products else None)
    row.done, row.total = len(summary["done"]), len(summary["done"]) + len(summary["missing"])
    row.missing = summary["missing"]
    row.problem = saved.problem
    if saved.started:
        row.state = DONE if not summary["missing"] else IN_PROGRESS
    if submitted and module_id in submitted:
        row.state, row.submitted_at = SUBMITTED, submitted[module_id]
    row.feedback, row.score, row.max_score = latest_feedback(folder, module_id)
    if row.feedback is not None:
        row.state = GRADED
    return row


def course_states(course_folder: Path, submitted: dict[str, str] | None = None
                  ) -> list[ModuleState]:
    """Every module of the learner's course folder, in order."""
    return [module_state(nb, submitted) for nb in module_notebooks(course_folder)]
