"""A small read-only table that shows itself in a notebook: the learner's own answers, listed
or counted.

Why not a pandas DataFrame: importing pandas adds about a third of a kernel's start-up time
(0.2 s against 0.6 s, measured by benchmarks/learner_startup.py), and most modules only want
to show a learner their answers in a table. Modules that work with data (the
de-identification hands-on) import pandas themselves; `Module.answers_frame` still returns a
DataFrame for anyone who wants one.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


class AnswerTable:
    """Rows under column headings, with a caption. Renders as an accessible HTML table (a
    caption and column headers with `scope`) in JupyterLab and as aligned text elsewhere."""

    def __init__(self, caption: str, columns: Sequence[str],
                 rows: Sequence[Sequence[object]]) -> None:
        self.caption = caption
        self.columns = list(columns)
        self.rows = [list(row) for row in rows]
        for number, row in enumerate(self.rows, start=1):
            if len(row) != len(self.columns):
                raise ValueError(f"{caption}: row {number} has {len(row)} values for "
                                 f"{len(self.columns)} columns")

    def column(self, name: str) -> list[object]:
        """The values of one column, top to bottom."""
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def _repr_html_(self) -> str:
        head = "".join(f"<th scope='col' style='text-align:left'>{escape(c)}</th>"
                       for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{escape(str(v))}</td>" for v in row)
            + "</tr>" for row in self.rows)
        return (f"<table><caption style='text-align:left'>{escape(self.caption)}</caption>"
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

    def __repr__(self) -> str:
        cells = [self.columns] + [[str(v) for v in row] for row in self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.columns))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                 for row in cells]
        return "\n".join([self.caption, *lines])
