"""Score clicked answers in the grader's own process, not in the learner's kernel.

Everything in a notebook's kernel is under the learner's control: code typed into any cell could
replace `course.expect`, patch `privacy_course.learner.checks`, or hand back an object whose `==` is
always true. So after nbgrader has run a submission, this preprocessor re-scores every test cell
whose (restored, instructor) source consists of calls to `course.expect`,
`course.expect_classification` or `course.expect_text`: it reads the responses file that was
handed in, compares plain JSON values with the same functions, and writes the result into the
cell's outputs, which is what nbgrader's score is read from. If the kernel had claimed more
than the responses support, the difference is recorded as tampering.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
from collections.abc import Callable
from typing import Any

from nbconvert.preprocessors import Preprocessor
from nbformat import NotebookNode
from nbformat.v4 import new_output
from traitlets import Bool

from privacy_course.learner import checks as grading
from privacy_course.record import Flag, add_note

GRADERS: dict[str, Callable[..., Any]] = {
    "expect": grading.expect_choice,
    "expect_classification": grading.expect_classification,
    "expect_text": grading.expect_text,
}


def _calls(source: str) -> list[tuple[str, list[Any], dict[str, Any]]] | None:
    """The grader calls of a test cell, or None if the cell does anything else as well."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    calls = []
    for statement in tree.body:
        if not isinstance(statement, ast.Expr) or not isinstance(statement.value, ast.Call):
            return None
        func = statement.value.func
        if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                and func.value.id == "course"):
            return None
        if func.attr == "status":
            continue
        if func.attr not in GRADERS:
            return None
        if any(k.arg is None for k in statement.value.keywords):  # **spread: not a plain call
            return None
        try:
            args = [ast.literal_eval(a) for a in statement.value.args]
            kwargs = {str(k.arg): ast.literal_eval(k.value) for k in statement.value.keywords}
        except ValueError:
            return None
        calls.append((func.attr, args, kwargs))
    return calls or None


def _kernel_claimed_full(cell: NotebookNode) -> bool:
    for output in cell.get("outputs", []):
        if output.output_type == "error" or (output.output_type == "stream"
                                             and output.name == "stderr"):
            return False
        if output.output_type == "execute_result":
            return False
    return True


class ScoreFromResponses(Preprocessor):
    """Replace the outputs of click-graded test cells with a score computed outside the kernel."""

    enabled = Bool(True).tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources.get("nbgrader", {})
        self._module = info.get("assignment") or ""
        self._folder = resources.get("metadata", {}).get("path") or os.getcwd()
        self._nb = nb  # its metadata is where grading notes go (privacy_course.record)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell: NotebookNode, resources: dict, index: int
                        ) -> tuple[NotebookNode, dict]:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            return cell, resources
        calls = _calls(cell.source)
        if calls is None:
            return cell, resources
        result = None
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            for name, args, kwargs in calls:
                kwargs = {**kwargs, "folder": self._folder}
                score = GRADERS[name](self._module, *args, **kwargs)
                if score is not None and result is None:
                    result = score
        if result is not None and _kernel_claimed_full(cell):
            add_note(self._nb, Flag("forced-pass", grade_id=meta.get("grade_id")))
        outputs = [new_output("stream", name="stdout",
                              text=printed.getvalue() or "Checked by the grader.\n")]
        if result is not None:
            outputs.append(new_output("execute_result", execution_count=cell.get(
                "execution_count"), data={"text/plain": repr(result)}))
        cell.outputs = outputs
        return cell, resources
