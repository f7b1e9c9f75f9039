"""The responses store: every learner input of a module, in `<module>.responses.json`.

Widget state is lost when nbgrader re-executes a notebook, so every click and keystroke is written
here as it happens, beside the notebook, and the notebook's test cells read it back at grading
time. Writes are atomic (temporary file + rename), so a crash never leaves half a file. A file
that cannot be read is never overwritten: it is moved aside under a new name and the learner is
told in plain words, and the answers given in this kernel are kept and saved afresh.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT = 1
SUFFIX = ".responses.json"


def responses_path(module_id: str, folder: Path | str | None = None) -> Path:
    """Where a module's responses live: beside its notebook (the kernel's working folder)."""
    return Path(folder or Path.cwd()) / f"{module_id}{SUFFIX}"


def empty_responses(module_id: str) -> dict[str, Any]:
    return {"format": FORMAT, "module": module_id, "answers": {}, "scenarios": {}}


class ReadResult:
    """What reading a responses file gave: the data and, when something was wrong, why."""

    def __init__(self, data: dict[str, Any], problem: str | None = None) -> None:
        self.data = data
        self.problem = problem


def read_responses(path: Path, module_id: str) -> ReadResult:
    """Read a responses file without ever raising: a missing, empty or corrupt file reads as
    empty, with `problem` saying which it was in words a learner understands."""
    if not path.exists():
        return ReadResult(empty_responses(module_id), f"No answers saved yet ({path.name}).")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return ReadResult(empty_responses(module_id), f"{path.name} could not be read ({exc}).")
    if not text.strip():
        return ReadResult(empty_responses(module_id), f"{path.name} is empty.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return ReadResult(
            empty_responses(module_id), f"{path.name} is damaged (not valid JSON: {exc.msg})."
        )
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("answers"), dict)
        or not isinstance(data.get("scenarios"), dict)
    ):
        return ReadResult(empty_responses(module_id), f"{path.name} does not hold saved answers.")
    if data.get("module") != module_id:
        return ReadResult(
            empty_responses(module_id),
            f"{path.name} belongs to module {data.get('module')!r}, not {module_id!r}.",
        )
    return ReadResult(data)


def atomic_write_json(path: Path, data: Any) -> None:
    """Write JSON so that readers see either the old file or the new one, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class ResponsesStore:
    """A module's responses, held in memory and saved to disk on every change.

    `problem` is set when the file on disk could not be used when the store was opened; the
    damaged file has then been moved aside (never deleted) so that nothing a learner did is lost.
    """

    def __init__(self, module_id: str, folder: Path | str | None = None) -> None:
        self.module_id = module_id
        self.path = responses_path(module_id, folder)
        result = read_responses(self.path, module_id)
        self.data = result.data
        self.problem: str | None = None
        self.save_error: str | None = None
        self._listeners: list[Callable[[], None]] = []
        if result.problem and self.path.exists():
            kept = self.path.with_name(f"{self.path.name}.unreadable-{int(time.time())}")
            try:
                os.replace(self.path, kept)
                self.problem = (
                    f"{result.problem} It was kept as {kept.name}; your new answers are saved "
                    "to a fresh file."
                )
            except OSError:
                self.problem = result.problem

    # -- reading ---------------------------------------------------------------------------
    def answer(self, key: str, default: Any = None) -> Any:
        return self.data["answers"].get(key, default)

    def scenario(self, scenario_id: str) -> dict[str, Any]:
        return self.data["scenarios"].get(scenario_id, {"trail": [], "finished": False})

    # -- writing ---------------------------------------------------------------------------
    def set_answer(self, key: str, value: Any) -> None:
        self.data["answers"][key] = value
        self._changed()

    def set_scenario(self, scenario_id: str, state: dict[str, Any]) -> None:
        self.data["scenarios"][scenario_id] = state
        self._changed()

    def on_change(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _changed(self) -> None:
        self.data["saved_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            atomic_write_json(self.path, self.data)
            self.save_error = None
        except OSError as exc:  # a full disk or a read-only folder: keep the answers in memory
            self.save_error = f"Your answers could not be saved to {self.path.name}: {exc}"
        for callback in self._listeners:
            callback()
