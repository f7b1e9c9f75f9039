"""A work product as data: one `Document`, rendered to a web page, a Word file, a PDF and, for
Module 1, a slide deck.

Every format is drawn from the same tree of blocks and runs, so the four cannot say different
things. A learner's words travel as `Run(text, answer=True)`: plain text that no renderer ever
parses as Markdown or HTML, which is what keeps `<script>` or `[x](javascript:...)` typed into a
text box inert in every format.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import ClassVar

# Characters XML 1.0 (Word, PowerPoint) cannot hold and that a PDF font has no glyph for:
# control characters other than tab and newline, lone surrogates, and the two non-characters.
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: object) -> str:
    """A learner's text as every format can hold it: newlines normalised, control characters
    and lone surrogates (which a JSON file can carry) removed, Unicode in composed form."""
    text = str(value or "").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _UNWRITABLE.sub("", text))


@dataclass(frozen=True)
class Run:
    """A stretch of text in one style. `answer` marks the learner's own words (or her choices),
    `gap` a prompt she has not answered yet; both are shown as plain text."""

    text: str
    bold: bool = False
    italic: bool = False
    href: str | None = None
    answer: bool = False
    gap: bool = False


Runs = tuple[Run, ...]


@dataclass(frozen=True)
class Paragraph:
    runs: Runs
    kind: ClassVar[str] = "paragraph"


@dataclass(frozen=True)
class Subheading:
    text: str
    kind: ClassVar[str] = "subheading"


@dataclass(frozen=True)
class ListBlock:
    """A bulleted or numbered list; `boxes` prints an empty tick box before each item (a
    checklist to use on paper)."""

    items: tuple[Runs, ...]
    ordered: bool = False
    boxes: bool = False
    kind: ClassVar[str] = "list"


@dataclass(frozen=True)
class Table:
    header: tuple[Runs, ...]
    rows: tuple[tuple[Runs, ...], ...]
    kind: ClassVar[str] = "table"


Block = Paragraph | Subheading | ListBlock | Table


@dataclass(frozen=True)
class Section:
    heading: str | None
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Slide:
    """One slide of a deck: a title, its points (each a list of runs) and the speaker notes."""

    title: str
    points: tuple[Runs, ...]
    notes: str


@dataclass(frozen=True)
class Labels:
    """The fixed words around the content, in the document's language."""

    district: str
    author: str
    date: str
    audience: str
    sources: str
    footer: str  # "{current}" is replaced by the month the content is current as of
    gap: str  # "{label}" is replaced by the prompt's label
    page: str  # "{page}" and "{pages}"
    months: tuple[str, ...]
    date_format: str  # "{day}", "{month}", "{year}"
    month_year: str  # "{month}", "{year}"


LABELS: dict[str, Labels] = {
    "en": Labels(
        district="District", author="Prepared by", date="Date", audience="For",
        sources="Sources", footer="Not legal advice. Current as of {current}.",
        gap="[To be written: {label}]", page="Page {page} of {pages}",
        months=("January", "February", "March", "April", "May", "June", "July", "August",
                "September", "October", "November", "December"),
        date_format="{day} {month} {year}", month_year="{month} {year}"),
    "es": Labels(
        district="Distrito", author="Preparado por", date="Fecha", audience="Para",
        sources="Fuentes", footer="No constituye asesoramiento legal. Información vigente a "
        "{current}.", gap="[Por completar: {label}]", page="Página {page} de {pages}",
        months=("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
                "septiembre", "octubre", "noviembre", "diciembre"),
        date_format="{day} de {month} de {year}", month_year="{month} de {year}"),
}


@dataclass(frozen=True)
class Document:
    """A filled work product, ready for any renderer."""

    stem: str  # the file name without its suffix, e.g. "my-leadership-briefing"
    language: str
    title: str
    subtitle: str
    audience: str
    district: str
    author: str
    role: str
    date: date
    current_as_of: str  # "December 2026"
    sections: tuple[Section, ...]
    sources: tuple[str, ...]
    disclaimer: str
    missing: tuple[str, ...] = ()  # labels of the prompts not answered yet
    slides: tuple[Slide, ...] = field(default=())
    deck_title: str = ""  # the slide deck's title, when it differs from the document's

    @property
    def labels(self) -> Labels:
        return LABELS[self.language]

    @property
    def date_text(self) -> str:
        labels = self.labels
        return labels.date_format.format(day=self.date.day,
                                         month=labels.months[self.date.month - 1],
                                         year=self.date.year)

    @property
    def footer(self) -> str:
        """'Not legal advice. Current as of December 2026.', in the document's language."""
        month, _, year = self.current_as_of.partition(" ")
        english = LABELS["en"].months
        current = self.current_as_of
        if self.language != "en" and month in english:
            current = self.labels.month_year.format(
                month=self.labels.months[english.index(month)], year=year)
        return self.labels.footer.format(current=current)

    @property
    def byline(self) -> str:
        """'Thị Lan Nguyễn, Chief Technology Officer' (or whichever of the two is known)."""
        return ", ".join(part for part in (self.author, self.role) if part)

    @property
    def details(self) -> list[str]:
        """The line under the title: who prepared it, when, and for whom."""
        labels = self.labels
        return ([f"{labels.author}: {self.byline}"] if self.byline else []) + [
            f"{labels.date}: {self.date_text}"] + (
            [f"{labels.audience}: {self.audience}"] if self.audience else [])

    def fingerprint(self) -> str:
        """What the document says, the date aside: files on disk with the same fingerprint
        need not be written again (opening a page, or grading it, stays cheap)."""
        data = asdict(self)
        data.pop("date")
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str,
                                         ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


def plain(runs: Runs) -> str:
    """The text of some runs, styles dropped."""
    return "".join(run.text for run in runs)


def learner_text(doc: Document) -> str:
    """Everything in `doc` that came from the learner (her answers and her details)."""
    parts = [doc.district, doc.author, doc.role]
    for section in doc.sections:
        for block in section.blocks:
            if isinstance(block, Paragraph):
                groups: tuple[Runs, ...] = (block.runs,)
            elif isinstance(block, ListBlock):
                groups = block.items
            elif isinstance(block, Table):
                groups = tuple(cell for row in block.rows for cell in row)
            else:
                groups = ()
            parts += [run.text for runs in groups for run in runs if run.answer]
    return "\n".join(parts)
