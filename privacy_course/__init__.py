"""K-12 student data privacy: a course for district leaders, graded with nbgrader.

Notebooks use only the public names below. Importing the package stays light: ipywidgets,
nbgrader and pandas are imported by the parts that need them, when they need them.
"""

from __future__ import annotations

from privacy_course.authoring.content import ContentError, ModuleContent, load_module_content
from privacy_course.learner.module import Module, open_module
from privacy_course.learner.responses import ResponsesStore, read_responses

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`from privacy_course import disclosure` (the de-identification exercise's checks) loads
    pandas only when a notebook asks for it."""
    if name == "disclosure":
        from privacy_course.learner import disclosure

        return disclosure
    raise AttributeError(f"module 'privacy_course' has no attribute {name!r}")


__all__ = [
    "ContentError",
    "Module",
    "ModuleContent",
    "ResponsesStore",
    "__version__",
    "load_module_content",
    "open_module",
    "read_responses",
]
