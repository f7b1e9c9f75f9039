"""A deleted test cell that nbgrader puts back gets a cell id, as notebook format 4.5 requires.

`OverwriteCells.add_missing_cells` restores a deleted test cell from the gradebook, as a cell
without an id. nbformat then warns (`MissingIDFieldWarning`, "this will become a hard error")
when nbconvert checks the notebook after that very step, and again each time the graded
notebook is read: in `grade`, in `feedback`, in the formgrader. This subclass gives the restored
cell the id it had in the course's own notebook (its grade id: the build names cells so), or a
fresh one where that cannot be an id.
"""

from __future__ import annotations

import re
from typing import Any

from nbgrader.preprocessors import OverwriteCells

CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")  # nbformat 4.5's pattern for cell ids


class OverwriteCellsWithIds(OverwriteCells):
    """nbgrader's OverwriteCells (configured as `c.OverwriteCells`), restored cells with ids."""

    def missing_cell_transform(self, source_cell: Any, max_score: float,
                               is_solution: bool = False, is_task: bool = False) -> Any:
        from nbformat.corpus.words import generate_corpus_id

        cell = super().missing_cell_transform(source_cell, max_score, is_solution, is_task)
        name = str(source_cell.name or "")
        cell["id"] = name if CELL_ID.match(name) else generate_corpus_id()
        return cell
