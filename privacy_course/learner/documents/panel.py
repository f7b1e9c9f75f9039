"""The work product on the module page: a preview, what is still missing, a "Create my
document" button, and download links (Word, PDF, the print-ready page, and Module 1's slides).

Nothing is written before the learner asks for it or has answered every prompt the document
uses; from then on the files follow her answers. The preview is drawn again on every saved
input; the files, which take a fraction of a second to render, are written once she pauses
(a second after the last change), so typing never waits for a PDF.

The district's name, her name and her role come from the learner profile; when one is missing
the panel asks for it in labelled text fields and saves it for the whole course (the module
folder's parent), so every later module has it.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import ipywidgets as w
from markupsafe import Markup

from privacy_course.learner.documents.files import (
    document_written,
    language_stem,
    read_files,
    write_document,
)
from privacy_course.learner.documents.model import Document, learner_text
from privacy_course.learner.documents.template import DocumentTemplate, fill
from privacy_course.learner.profile import load_profile, save_profile
from privacy_course.learner.responses import ResponsesStore
from privacy_course.learner.widgets import STYLE, html_text
from privacy_course.learner.your_state import current_state

LANGUAGE_NAMES = {"en": "English", "es": "Spanish (español)"}
PROFILE_FIELDS = (
    ("district", "District or school system", "e.g. Riverside Unified School District"),
    ("author", "Your name", "e.g. Thị Lan Nguyễn"),
    ("role", "Your role", "e.g. Chief Technology Officer"),
)
WRITE_DELAY = 1.0  # seconds after the last change before the files are written again


def _macros() -> Any:
    from privacy_course.learner.documents.web import environment

    return environment().get_template("documents/panel.html.j2").module




class DocumentPanel(w.VBox):
    """One work product on the page, in one or several languages."""

    def __init__(self, folder: Path, stem: str, templates: Mapping[str, DocumentTemplate],
                 prompts: Mapping[str, dict[str, Any]], store: ResponsesStore,
                 languages_key: str | None = None) -> None:
        super().__init__()
        self.add_class("pc-box")
        self.layout.width = "100%"
        self.folder = Path(folder)
        self.stem = stem
        self.templates = dict(templates)
        self.prompts = prompts
        self.store = store
        self.languages_key = languages_key
        self.delay = WRITE_DELAY
        self.problem: str | None = None
        self._pending: Any = None
        self.macros = _macros()
        first = next(iter(self.templates.values()))
        self.heading = html_text(str(self.macros.heading(first.meta["title"])))
        self.profile_box = w.VBox()
        self.fields: dict[str, w.Text] = {}
        self.profile_note = html_text()
        self.language_boxes: list[w.Checkbox] = []
        self.status = html_text(css="pc-live")
        self.create_button = w.Button(description="Create my document", button_style="primary",
                                      tooltip="Create my document now, with any gaps marked")
        self.create_button.on_click(lambda _b: self.create())
        self.downloads = html_text()
        self.preview = html_text()
        self._build_profile()
        parts: list[w.Widget] = [html_text(STYLE), self.heading, self.profile_box]
        if len(self.templates) > 1:
            parts.append(self._build_languages())
        self.children = [*parts, self.status, self.create_button, self.downloads, self.preview]
        store.on_change(self.refresh)
        self.refresh(write_now=True)

    # -- the learner's details -------------------------------------------------------------
    def _build_profile(self) -> None:
        profile = load_profile(self.folder)
        missing = [label for name, label, _ in PROFILE_FIELDS if not getattr(profile, name)]
        self.fields = {}
        for name, label, example in PROFILE_FIELDS:
            field = w.Text(value=getattr(profile, name), description=label,
                           placeholder=example, continuous_update=False,
                           style={"description_width": "initial"},
                           layout=w.Layout(width="100%", max_width="40em"))
            field.observe(lambda change, n=name: self.set_profile(n, change["new"]),
                          names="value")
            self.fields[name] = field
        if missing:
            self.profile_note = html_text(str(self.macros.profile_note(
                [m.lower() for m in missing])))
            self.profile_box.children = [self.profile_note, *self.fields.values()]
        else:
            change = w.Button(description="Change the district, name or role",
                              tooltip="Change the district, name or role on your documents")
            change.layout.width = "auto"
            summary = html_text(str(self.macros.profile_summary(
                profile.district, ", ".join(p for p in (profile.author, profile.role) if p))))

            def show(_button: Any) -> None:
                self.profile_box.children = [summary, *self.fields.values()]

            change.on_click(show)
            self.profile_box.children = [summary, change]

    def set_profile(self, name: str, value: str) -> None:
        """Save one detail for the whole course, then redraw the document with it."""
        try:
            profile = save_profile(self.folder.parent, **{name: value})
            self.problem = None
        except OSError as exc:
            self.problem = f"Your details could not be saved ({exc.strerror or exc})."
        else:
            missing = [label.lower() for field, label, _ in PROFILE_FIELDS
                       if not getattr(profile, field)]
            self.profile_note.value = str(self.macros.profile_note(missing))
        self.refresh()

    # -- languages ---------------------------------------------------------------------------
    def _build_languages(self) -> w.VBox:
        chosen = self.languages()
        self.language_boxes = []
        for code in self.templates:
            box = w.Checkbox(value=code in chosen, description=LANGUAGE_NAMES.get(code, code),
                             indent=False)
            box.language = code  # type: ignore[attr-defined]
            box.observe(lambda _change: self._save_languages(), names="value")
            self.language_boxes.append(box)
        intro = html_text("<p><strong>Languages of this document</strong> (tick one or both). "
                      "Your own answers appear as you wrote them; the rest is translated.</p>")
        return w.VBox([intro, *self.language_boxes])

    def languages(self) -> list[str]:
        """The languages the learner chose (the first template's alone by default)."""
        codes = list(self.templates)
        saved = self.store.answer(self.languages_key) if self.languages_key else None
        if isinstance(saved, list):
            return [code for code in codes if code in saved]
        return codes[:1]

    def _save_languages(self) -> None:
        if self.languages_key:
            self.store.set_answer(self.languages_key,
                                  [b.language for b in self.language_boxes if b.value])

    # -- the documents -----------------------------------------------------------------------
    def documents(self) -> list[Document]:
        profile = load_profile(self.folder)
        default = next(iter(self.templates))
        return [fill(self.templates[code], self.prompts, self.store.answer,
                     stem=language_stem(self.stem, code, default), district=profile.district,
                     author=profile.author, role=profile.role,
                     state=current_state(self.folder)[0], folder=self.folder)
                for code in self.languages()]

    @property
    def created(self) -> bool:
        return document_written(self.folder, self.stem, tuple(self.templates))

    def create(self) -> None:
        """The "Create my document" button: write the files now, gaps and all."""
        self._write(force=True)

    def refresh(self, write_now: bool = False) -> None:
        """Redraw the preview and the status; (re)write the files when they are wanted."""
        docs = self.documents()
        self.preview.value = str(self.macros.preview([
            {"summary": f"Preview: {LANGUAGE_NAMES.get(d.language, d.language)}"
             if len(self.templates) > 1 else "Preview", "html": Markup(_preview(d))}
            for d in docs]))
        wanted = bool(docs) and (self.created or not docs[0].missing)
        if wanted:
            if write_now:
                self._write()
            else:
                self._schedule(self._write)
        self._draw_status(docs)

    def _schedule(self, action: Callable[[], None]) -> None:
        """Run `action` once the learner pauses: on the kernel's event loop when one runs
        (the page), at once otherwise (tests, headless runs)."""
        import asyncio

        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.delay <= 0:
            action()
            return
        self._pending = loop.call_later(self.delay, action)

    def _write(self, force: bool = False) -> None:
        self._pending = None
        docs = self.documents()
        if not docs:
            self._draw_status(docs)
            return
        if not (force or self.created or not docs[0].missing):
            return
        try:
            for doc in docs:
                write_document(self.folder, doc)
            self.problem = None
        except OSError as exc:
            self.problem = (f"Your document could not be saved in this module's folder "
                            f"({exc.strerror or exc}). Your answers are safe; try again later.")
        self._draw_downloads(docs)
        self._draw_status(docs)

    # -- drawing -----------------------------------------------------------------------------
    def _draw_downloads(self, docs: list[Document]) -> None:
        groups = []
        for doc in docs:
            links = [{"name": path.name, "label": kind.label,
                      "href": f"data:{kind.mime};base64,"
                              f"{base64.b64encode(read()).decode('ascii')}"}
                     for kind, path, read in read_files(self.folder, doc)]
            if links:
                name = LANGUAGE_NAMES.get(doc.language, doc.language)
                groups.append({"heading": name if len(self.templates) > 1 else "",
                               "label": f"Download your document ({name})", "links": links})
        self.downloads.value = str(self.macros.downloads(groups))

    def _draw_status(self, docs: list[Document]) -> None:
        from privacy_course.learner.documents.pdf import unprintable

        created = self.created
        self.create_button.layout.display = "none" if created or not docs else None
        if not docs:
            message = "Choose at least one language for this document."
        elif not created and not docs[0].missing:
            message = ("Every prompt it needs is answered: your document is written as soon as "
                       "it can be saved.")
        elif not created:
            message = ("Still to answer before this document is written: "
                       + "; ".join(docs[0].missing)
                       + ". Or create it now, with the gaps marked.")
        elif docs[0].missing:
            message = ("Saved in this module's folder, with gaps marked for: "
                       + "; ".join(docs[0].missing) + ". It is updated as you answer.")
        else:
            message = ("Saved in this module's folder and updated as you change your answers. "
                       "Download it below.")
        problem = self.problem
        if not problem and docs and created and any(unprintable(learner_text(d)) for d in docs):
            problem = ("Some characters you typed are not in the PDF's font and print there "
                       "as \u201c\ufffd\u201d; the Word file and the page show them all.")
        self.status.value = str(self.macros.status(message, problem))
        if created and not self.downloads.value:
            self._draw_downloads(docs)


def _preview(doc: Document) -> str:
    from privacy_course.learner.documents.web import render_preview

    return render_preview(doc)

