"""Learner text in pages that others open: shown as text, never rendered as markup.

nbgrader's feedback and formgrader templates render every markdown cell of a graded notebook,
and they ignore nbconvert's `sanitize_html` setting. The course's own markdown cells are locked
and nbgrader restores them from `source/` before grading, so they are trusted; a markdown cell
that a learner added or retyped is not, and even after bleach (nbconvert's SanitizeHTML, also in
the pipeline for outputs) Markdown link syntax would still become a live `javascript:` link. So a
learner's markdown is shown as what she typed, in a plain-text block.
"""

from __future__ import annotations

import re
from typing import Any

from nbconvert.preprocessors import Preprocessor


class LearnerMarkdownAsText(Preprocessor):
    """Every markdown cell that is not a locked cell of the course becomes a text block."""

    def preprocess_cell(self, cell: Any, resources: dict, index: int) -> tuple[Any, dict]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "markdown" and not (meta.get("locked") or meta.get("grade")):
            text = cell.source if isinstance(cell.source, str) else "".join(cell.source)
            longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
            fence = "`" * max(3, longest + 1)  # longer than any run in the text
            cell.source = f"{fence}text\n{text}\n{fence}"
        return cell, resources
