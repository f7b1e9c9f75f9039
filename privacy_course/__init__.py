"""K-12 student data privacy: a course for district leaders, graded with nbgrader.

Notebooks use only the public names below. Importing the package stays light: ipywidgets,
nbgrader and pandas are imported by the parts that need them, when they need them.
"""

from __future__ import annotations

from .content import ContentError, ModuleContent, load_module_content
from .module import Module, open_module
from .responses import ResponsesStore, read_responses

__version__ = "0.1.0"

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
