"""The learner's work products as documents worth handing over: one data model per document
(`model`), filled from a template shipped with the module (`template`), rendered as a styled,
print-ready page (`web`), a Word file (`word`), a PDF (`pdf`) and, for Module 1, a slide deck
(`slides`); written beside the notebook (`files`) and offered on the module page (`panel`).

The writers (python-docx, fpdf2, python-pptx) are imported only when a file is written, so
opening a module page stays light."""

from privacy_course.learner.documents.files import document_written, output_stem, write_document
from privacy_course.learner.documents.model import Document, clean_text
from privacy_course.learner.documents.template import DocumentTemplate, fill, load_template

__all__ = [
    "Document",
    "DocumentTemplate",
    "clean_text",
    "document_written",
    "fill",
    "load_template",
    "output_stem",
    "write_document",
]
