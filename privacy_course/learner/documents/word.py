"""A `Document` as a Word file (python-docx): the district, title and date at the top, the
"not legal advice" notice and page numbers in the page footer, and the learner's answers as
plain runs of text (python-docx escapes them into the XML)."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

from privacy_course.learner.documents.model import (
    Document,
    ListBlock,
    Paragraph,
    Runs,
    Subheading,
    Table,
)

ACCENT = (0x0B, 0x4F, 0x9C)
MUTED = (0x3B, 0x48, 0x56)
GAP = (0x8A, 0x1C, 0x1C)


def _rgb(colour: tuple[int, int, int]) -> Any:
    from docx.shared import RGBColor

    return RGBColor(*colour)


def _runs(paragraph: Any, runs: Runs) -> None:
    """Add runs to a paragraph; a newline in a learner's text becomes a line break."""
    for item in runs:
        lines = item.text.split("\n")
        for number, line in enumerate(lines):
            run = paragraph.add_run(line)
            run.bold = item.bold or None
            run.italic = (item.italic or item.gap) or None
            if item.gap:
                run.font.color.rgb = _rgb(GAP)
            if number < len(lines) - 1:
                run.add_break()


def _page_number(paragraph: Any) -> None:
    """A PAGE field (Word fills in the number)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        else:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        run._r.append(element)


def render_docx(doc: Document) -> bytes:
    import docx
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm, Pt

    word = docx.Document()
    props = word.core_properties
    props.title = doc.title
    props.author = doc.author
    props.language = doc.language
    props.subject = doc.district
    props.comments = doc.footer
    section = word.sections[0]
    section.page_height, section.page_width = Cm(27.94), Cm(21.59)  # US Letter
    for side in ("left_margin", "right_margin"):
        setattr(section, side, Cm(2.2))
    section.top_margin = section.bottom_margin = Cm(2)

    normal = word.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(11)
    for name, size in (("Title", 22), ("Heading 1", 14), ("Heading 2", 12)):
        style = word.styles[name]
        style.font.name = "Calibri"
        style.font.size = Pt(size)
        style.font.color.rgb = _rgb(ACCENT if name != "Title" else (0x1D, 0x27, 0x31))

    header = section.header.paragraphs[0]
    header.text = " · ".join(part for part in (doc.district, doc.title) if part)
    header.runs[0].font.size = Pt(8)
    header.runs[0].font.color.rgb = _rgb(MUTED)
    footer = section.footer.paragraphs[0]
    footer.add_run(f"{doc.footer}  ").font.size = Pt(8)
    _page_number(footer)

    if doc.district:
        district = word.add_paragraph()
        run = district.add_run(doc.district)
        run.bold = True
        run.font.size = Pt(13)
        run.font.color.rgb = _rgb(ACCENT)
    word.add_paragraph(doc.title, style="Title")
    if doc.subtitle:
        word.add_paragraph().add_run(doc.subtitle).italic = True
    meta = word.add_paragraph()
    labels = doc.labels
    parts = doc.details
    meta_run = meta.add_run("  ·  ".join(parts))
    meta_run.font.color.rgb = _rgb(MUTED)

    for part in doc.sections:
        if part.heading:
            word.add_heading(part.heading, level=1)
        for block in part.blocks:
            if isinstance(block, Paragraph):
                _runs(word.add_paragraph(), block.runs)
            elif isinstance(block, Subheading):
                word.add_heading(block.text, level=2)
            elif isinstance(block, ListBlock):
                for number, item in enumerate(block.items, start=1):
                    paragraph = word.add_paragraph()
                    paragraph.paragraph_format.left_indent = Cm(0.9)
                    paragraph.paragraph_format.first_line_indent = Cm(-0.6)
                    mark = f"{number}." if block.ordered else ("☐" if block.boxes else "•")
                    paragraph.add_run(f"{mark}\t")
                    paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(0.9))
                    _runs(paragraph, item)
            elif isinstance(block, Table):
                table = word.add_table(rows=1, cols=len(block.header))
                table.style = "Table Grid"
                table.alignment = WD_TABLE_ALIGNMENT.CENTER
                for cell, runs in zip(table.rows[0].cells, block.header, strict=True):
                    _runs(cell.paragraphs[0], tuple(replace(r, bold=True) for r in runs))
                for row in block.rows:
                    cells = table.add_row().cells
                    for cell, runs in zip(cells, row, strict=False):
                        _runs(cell.paragraphs[0], runs)
                word.add_paragraph()

    word.add_heading(labels.sources, level=1)
    for number, source in enumerate(doc.sources, start=1):
        paragraph = word.add_paragraph()
        paragraph.paragraph_format.left_indent = Cm(0.9)
        paragraph.paragraph_format.first_line_indent = Cm(-0.6)
        run = paragraph.add_run(f"{number}.\t{source}")
        run.font.size = Pt(9)
    word.add_paragraph().add_run(doc.disclaimer).italic = True
    word.add_paragraph().add_run(doc.footer).bold = True
    out = io.BytesIO()
    word.save(out)
    return out.getvalue()
