"""A simulated learner: runs a module notebook in a real kernel and answers it only through the
widgets' own Python API (setting a radio button's value, ticking a check box, typing into a text
area, clicking a button), exactly what the browser does through the widget protocol. The
notebook itself is never edited."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

GRADERS = {"expect", "expect_classification"}


def answer_key(source_notebook: Path) -> dict[str, Any]:
    """The graded key of a module, read from the hidden tests of its instructor notebook (or of
    its authored MyST text, modules/<id>/<id>.md): {check id: option id or ids, exercise id:
    {item: category}}."""
    if source_notebook.suffix == ".md":
        import jupytext

        nb = jupytext.read(source_notebook, fmt="md:myst")
    else:
        nb = nbformat.read(source_notebook, as_version=4)
    key: dict[str, Any] = {}
    for cell in nb.cells:
        if not cell.metadata.get("nbgrader", {}).get("grade"):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in GRADERS and len(node.args) >= 2):
                key[ast.literal_eval(node.args[0])] = ast.literal_eval(node.args[1])
    return key


LEARNER_ACTIONS = '''
def _pc_learner(course, answers, text, finish_scenarios, fill_prompts):
    for wid, widget in list(course.widgets.items()):
        if hasattr(widget, "choice_buttons") and finish_scenarios:
            for _ in range(100):
                step = widget.current_step
                if widget.choice_buttons and step is not None:
                    best = next((c for c in step["choices"] if c["verdict"] == "best"),
                                step["choices"][0])
                    next(b for b in widget.choice_buttons if b.description == best["text"]).click()
                elif widget.continue_button is not None:
                    widget.continue_button.click()
                else:
                    break
        elif wid in answers and hasattr(widget, "controls"):
            value = answers[wid]
            controls = widget.controls
            if isinstance(value, str):
                controls[0].value = value
            elif isinstance(value, dict):
                for menu in controls:
                    menu.value = value.get(menu.item_id, "")
            else:
                for box in controls:
                    if hasattr(box, "option_id"):
                        box.value = box.option_id in value
        elif wid in course.content.prompts and fill_prompts:
            prompt = course.content.prompts[wid]
            if prompt["kind"] == "text":
                widget.controls[0].value = text
            elif prompt["kind"] == "choice":
                widget.controls[0].value = prompt["items"][0]["id"]
            else:
                for box in widget.controls:
                    box.value = True
'''


ANSWER_KEY_CELL = "answer-key"


def type_solutions(notebook: Path, source_notebook: Path) -> int:
    """A learner doing a scaffolded code exercise: into each code cell they are meant to edit
    (a solution cell other than the instructor-only answer cell), type the instructor's
    solution. Returns how many cells were edited; modules answered only by clicking have none."""
    source = {c.get("id"): c for c in nbformat.read(source_notebook, as_version=4).cells}
    nb = nbformat.read(notebook, as_version=4)
    edited = 0
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution") or meta.get("grade_id") == ANSWER_KEY_CELL:
            continue
        lines = [line for line in source[cell.get("id")].source.splitlines()
                 if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
        cell.source = "\n".join(lines)
        edited += 1
    if edited:
        nbformat.write(nb, notebook)
    return edited


def run_module(
    notebook: Path,
    answers: dict[str, Any] | None = None,
    *,
    finish_scenarios: bool = True,
    fill_prompts: bool = True,
    text: str = "Our district will name a privacy lead and report to the board each term.",
    timeout: int = 120,
) -> nbformat.NotebookNode:
    """Run All on `notebook` in its folder, then (if `answers` is given) answer through the
    widgets, re-run the work-product and progress cells as a learner would, and save the
    notebook with its outputs. `answers=None` is a learner who only ran the notebook."""
    folder = notebook.parent
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                client.execute_cell(cell, index)
        if answers is not None:
            actions = nbformat.v4.new_code_cell(
                LEARNER_ACTIONS
                + f"\n_pc_learner(course, {answers!r}, {text!r}, {finish_scenarios!r}, "
                f"{fill_prompts!r})\n"
            )
            nb.cells.append(actions)  # run in the kernel, never saved in the notebook
            try:
                client.execute_cell(actions, len(nb.cells) - 1)
            finally:
                nb.cells.pop()
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code" and (
                    "work_product(" in cell.source or "progress(" in cell.source
                ):
                    client.execute_cell(cell, index)
    nbformat.write(nb, notebook)
    return nb
