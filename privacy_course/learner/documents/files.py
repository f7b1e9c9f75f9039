"""Writing a `Document`'s files beside the notebook, and knowing whether they are there.

`<stem>.html` (the print-ready page), `<stem>.docx` and `<stem>.pdf`, and `<stem>.pptx` when the
document has slides; a version in another language adds its code: `<stem>-es.html`. Every file
is written whole or not at all (a temporary file, then a rename). A page that already carries
the document's fingerprint is not written again, so opening a module page, or grading it,
costs no rendering when nothing has changed.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from privacy_course.learner.documents.model import Document

KNOWN_SUFFIXES = (".md", ".html", ".docx", ".pdf", ".pptx")


@dataclass(frozen=True)
class Format:
    suffix: str
    mime: str
    label: str  # the download link's words


PAGE = Format(".html", "text/html", "Download the print-ready page (.html)")
WORD = Format(".docx",
              "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "Download as Word (.docx)")
PDF = Format(".pdf", "application/pdf", "Download as PDF")
DECK = Format(".pptx",
              "application/vnd.openxmlformats-officedocument.presentationml.presentation",
              "Download the slide deck (.pptx)")


def output_stem(output: str) -> str:
    """'my-leadership-briefing' from 'my-leadership-briefing' or '...briefing.md' (the name a
    notebook gives its work product)."""
    name = Path(output).name
    for suffix in KNOWN_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def language_stem(stem: str, language: str, default: str = "en") -> str:
    return stem if language == default else f"{stem}-{language}"


def formats(doc: Document) -> tuple[Format, ...]:
    return (WORD, PDF, PAGE, DECK) if doc.slides else (WORD, PDF, PAGE)


def path_of(folder: Path, doc: Document, kind: Format) -> Path:
    return folder / f"{doc.stem}{kind.suffix}"


def render(doc: Document, kind: Format) -> bytes:
    """The document's bytes in one format (each writer imported only when it is needed)."""
    if kind is PAGE:
        from privacy_course.learner.documents.web import render_page

        return render_page(doc)
    if kind is WORD:
        from privacy_course.learner.documents.word import render_docx

        return render_docx(doc)
    if kind is PDF:
        from privacy_course.learner.documents.pdf import render_pdf

        return render_pdf(doc)
    from privacy_course.learner.documents.slides import render_pptx

    return render_pptx(doc)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def is_current(folder: Path, doc: Document) -> bool:
    """Whether every file of `doc` is on disk and says what `doc` says."""
    from privacy_course.learner.documents.web import page_fingerprint

    page = path_of(folder, doc, PAGE)
    if not all(path_of(folder, doc, kind).is_file() for kind in formats(doc)):
        return False
    try:
        head = page.read_bytes()[:4096]
    except OSError:
        return False
    return page_fingerprint(head) == doc.fingerprint()


def write_document(folder: Path, doc: Document) -> bool:
    """Write every file of `doc` unless they are already current; True when written.
    The page goes last: it carries the fingerprint, so a crash mid-way leaves the set stale
    and the next call writes it again."""
    if is_current(folder, doc):
        return False
    for kind in sorted(formats(doc), key=lambda k: k is PAGE):
        _atomic_write(path_of(folder, doc, kind), render(doc, kind))
    return True


def document_written(folder: Path, output: str, languages: tuple[str, ...] = ("en", "es")
                     ) -> bool:
    """Whether the learner has created this work product, in any of its languages (the
    progress panel's "Work product" line)."""
    stem = output_stem(output)
    return any((folder / f"{language_stem(stem, language)}{PAGE.suffix}").is_file()
               for language in languages)


def read_files(folder: Path, doc: Document) -> list[tuple[Format, Path, Callable[[], bytes]]]:
    """The document's files that exist, each with a reader (for download links)."""
    found = []
    for kind in formats(doc):
        path = path_of(folder, doc, kind)
        if path.is_file():
            found.append((kind, path, path.read_bytes))
    return found
