"""A `Document` as a PDF (fpdf2), in the course's bundled DejaVu Sans so that every Latin,
Greek, Cyrillic, Hebrew and Arabic name prints (right-to-left text is shaped with HarfBuzz).
Text is only ever written as text: fpdf2's Markdown mode is never used, so a learner's `**`
or `[link](...)` prints as typed. A character the font has no glyph for (Chinese, Japanese or
Korean script, emoji) prints as "�" rather than vanishing; the page and the Word file keep it.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from privacy_course.fonts import font_path
from privacy_course.learner.documents.model import (
    Document,
    ListBlock,
    Paragraph,
    Runs,
    Subheading,
    Table,
    learner_text,
)
from privacy_course.learner.documents.web import safe_href

FONT = "DejaVu"
INK = (0x1D, 0x27, 0x31)
ACCENT = (0x0B, 0x4F, 0x9C)
MUTED = (0x3B, 0x48, 0x56)
GAP = (0x8A, 0x1C, 0x1C)
ANSWER_FILL = (0xF2, 0xF6, 0xFA)
GAP_FILL = (0xFF, 0xF4, 0xF4)
LINE = 5.6  # mm per line of body text
REPLACEMENT = "\ufffd"


@lru_cache(maxsize=1)
def covered() -> frozenset[int]:
    """The code points DejaVu Sans has glyphs for."""
    from fontTools.ttLib import TTFont

    return frozenset(TTFont(str(font_path())).getBestCmap())


def printable(text: str) -> str:
    """`text` with each character the font cannot draw shown as '�' (line breaks kept)."""
    glyphs = covered()
    return "".join(ch if ch in "\n\t" or ord(ch) in glyphs else REPLACEMENT for ch in text)


def unprintable(text: str) -> bool:
    """Whether the PDF must replace some character of `text`."""
    glyphs = covered()
    return any(ch not in "\n\t" and ord(ch) not in glyphs for ch in text)


def needs_shaping(text: str) -> bool:
    """Whether `text` has right-to-left letters (Hebrew, Arabic), which print in the right
    order and joined only when shaped. Shaping costs about half a second per document, so Latin
    text goes without it."""
    import unicodedata

    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def _make_pdf(doc: Document) -> Any:
    from fpdf import FPDF

    class Pages(FPDF):  # type: ignore[misc]
        def header(self) -> None:
            if self.page_no() == 1:
                return
            self.set_font(FONT, "", 7.5)
            self.set_text_color(*MUTED)
            top = " · ".join(part for part in (doc.district, doc.title) if part)
            self.cell(0, 5, printable(top), new_x="LMARGIN", new_y="NEXT", align="L")
            self.ln(2)

        def footer(self) -> None:
            self.set_y(-14)
            self.set_font(FONT, "", 7.5)
            self.set_text_color(*MUTED)
            page = doc.labels.page.format(page=self.page_no(), pages="{nb}")
            self.cell(0, 5, printable(f"{doc.footer}   {page}"), align="C")

    pdf = Pages(format="letter", unit="mm")
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font(FONT, "", str(font_path()))
    pdf.add_font(FONT, "B", str(font_path(bold=True)))
    if needs_shaping(learner_text(doc)):
        try:
            pdf.set_text_shaping(True)  # uharfbuzz: right-to-left and joined scripts
        except Exception:  # noqa: BLE001 - without it the letters still print, unjoined
            pass
    pdf.set_title(printable(doc.title))
    pdf.set_author(printable(doc.author))
    pdf.set_subject(printable(doc.district))
    pdf.set_lang(doc.language)
    return pdf


def _font(pdf: Any, bold: bool = False, size: float = 10.5,
          colour: tuple[int, int, int] = INK) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_text_color(*colour)


def _write(pdf: Any, runs: Runs, size: float = 10.5) -> None:
    """Flowing text in several styles; a learner's line breaks are kept."""
    for run in runs:
        colour = GAP if run.gap else (ACCENT if run.href else INK)
        _font(pdf, run.bold, size, colour)
        link = safe_href(run.href) if run.href else ""
        pdf.write(LINE * size / 10.5, printable(run.text), link=link)
    pdf.ln(LINE * size / 10.5)


def _box(pdf: Any, text: str, fill: tuple[int, int, int], colour: tuple[int, int, int]) -> None:
    """A learner's answer (or a gap) as a shaded block; long ones run on to the next page."""
    _font(pdf, False, 10.5, colour)
    pdf.set_fill_color(*fill)
    pdf.multi_cell(0, LINE, printable(text), fill=True, new_x="LMARGIN", new_y="NEXT", align="L",
                   padding=(1.2, 2.5, 1.2, 2.5))


def _paragraph(pdf: Any, runs: Runs) -> None:
    if len(runs) == 1 and runs[0].answer:
        _box(pdf, runs[0].text, ANSWER_FILL, INK)
    elif len(runs) == 1 and runs[0].gap:
        _box(pdf, runs[0].text, GAP_FILL, GAP)
    else:
        _write(pdf, runs)
    pdf.ln(1.6)


def _list(pdf: Any, items: tuple[Runs, ...], ordered: bool, boxes: bool) -> None:
    left = pdf.l_margin
    for number, item in enumerate(items, start=1):
        mark = f"{number}." if ordered else ("☐" if boxes else "•")
        _font(pdf)
        pdf.set_x(left + 1)
        pdf.cell(6, LINE, mark)
        pdf.set_left_margin(left + 7)
        _write(pdf, item)
        pdf.set_left_margin(left)
        pdf.ln(0.8)
    pdf.ln(1.2)


def _table(pdf: Any, header: tuple[Runs, ...], rows: tuple[tuple[Runs, ...], ...]) -> None:
    from fpdf.fonts import FontFace

    def text(cell: Runs) -> str:
        return printable("".join(run.text for run in cell))

    columns = len(header)
    widths = []
    for c in range(columns):
        texts = [text(header[c])] + [text(r[c]) for r in rows if c < len(r)]
        longest_word = max((len(word) for t in texts for word in t.split()), default=1)
        mean = sum(len(t) for t in texts) / len(texts)
        widths.append(max(longest_word * 1.2 + 2, min(60.0, mean)))
    _font(pdf, size=9)
    with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.6, padding=1.4,
                   headings_style=FontFace(emphasis="BOLD", fill_color=(0xE9, 0xEE, 0xF4)),
                   borders_layout="ALL") as table:
        heading = table.row()
        for cell in header:
            heading.cell(text(cell))
        for row in rows:
            line = table.row()
            for cell in list(row) + [()] * (columns - len(row)):
                bold = bool(cell) and all(run.bold for run in cell)
                line.cell(text(cell), style=FontFace(emphasis="BOLD") if bold else None)
    pdf.ln(3)


def render_pdf(doc: Document) -> bytes:
    fpdf_log = logging.getLogger("fpdf")
    level = fpdf_log.level
    fpdf_log.setLevel(logging.ERROR)  # nothing on the learner's page, ever
    try:
        pdf = _make_pdf(doc)
        pdf.add_page()
        if doc.district:
            _font(pdf, True, 12, ACCENT)
            pdf.multi_cell(0, 6, printable(doc.district), new_x="LMARGIN", new_y="NEXT", align="L")
        _font(pdf, True, 18)
        pdf.multi_cell(0, 8.5, printable(doc.title), new_x="LMARGIN", new_y="NEXT", align="L")
        if doc.subtitle:
            _font(pdf, False, 11.5, MUTED)
            pdf.multi_cell(0, 6, printable(doc.subtitle), new_x="LMARGIN", new_y="NEXT", align="L")
        labels = doc.labels
        parts = doc.details
        _font(pdf, False, 9.5, MUTED)
        pdf.multi_cell(0, 5, printable("  ·  ".join(parts)), new_x="LMARGIN", new_y="NEXT",
                       align="L")
        pdf.set_draw_color(*ACCENT)
        pdf.set_line_width(0.8)
        pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.w - pdf.r_margin, pdf.get_y() + 2)
        pdf.ln(6)
        for section in doc.sections:
            if section.heading:
                pdf.ln(2)
                _font(pdf, True, 13, ACCENT)
                pdf.multi_cell(0, 6.5, printable(section.heading), new_x="LMARGIN",
                               new_y="NEXT", align="L")
                pdf.ln(1)
            for block in section.blocks:
                if isinstance(block, Paragraph):
                    _paragraph(pdf, block.runs)
                elif isinstance(block, Subheading):
                    _font(pdf, True, 11)
                    pdf.multi_cell(0, 6, printable(block.text), new_x="LMARGIN", new_y="NEXT",
                                   align="L")
                elif isinstance(block, ListBlock):
                    _list(pdf, block.items, block.ordered, block.boxes)
                elif isinstance(block, Table):
                    _table(pdf, block.header, block.rows)
        pdf.ln(3)
        _font(pdf, True, 11)
        pdf.multi_cell(0, 6, printable(labels.sources), new_x="LMARGIN", new_y="NEXT", align="L")
        for number, source in enumerate(doc.sources, start=1):
            _font(pdf, False, 8.5, MUTED)
            pdf.multi_cell(0, 4.4, printable(f"{number}. {source}"), new_x="LMARGIN",
                           new_y="NEXT", align="L")
            pdf.ln(0.6)
        pdf.ln(2)
        _font(pdf, False, 9, MUTED)
        pdf.multi_cell(0, 4.8, printable(doc.disclaimer), new_x="LMARGIN", new_y="NEXT", align="L")
        _font(pdf, True, 9)
        pdf.multi_cell(0, 4.8, printable(doc.footer), new_x="LMARGIN", new_y="NEXT", align="L")
        return bytes(pdf.output())
    finally:
        fpdf_log.setLevel(level)
