"""A `Document`'s slides as a PowerPoint deck (python-pptx): a title slide with the district,
author and date, the template's slides with speaker notes, and a sources slide.

A slide holds a few lines, so a long answer is cut at a word boundary on the slide and given in
full in that slide's speaker notes: nothing the learner wrote is lost."""

from __future__ import annotations

import io
from typing import Any

from privacy_course.learner.documents.model import Document, Run, Runs

SLIDE_LIMIT = 320  # characters of one answer shown on a slide
ACCENT = (0x0B, 0x4F, 0x9C)
INK = (0x1D, 0x27, 0x31)
MUTED = (0x3B, 0x48, 0x56)


def shorten(text: str, limit: int = SLIDE_LIMIT) -> str:
    """`text` cut at the last space before `limit` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:.") + " …"


def _fill(frame: Any, points: list[Runs], size: int) -> None:
    from pptx.dml.color import RGBColor
    from pptx.util import Pt

    frame.clear()
    frame.word_wrap = True
    for number, point in enumerate(points):
        paragraph = frame.paragraphs[0] if number == 0 else frame.add_paragraph()
        for item in point:
            run = paragraph.add_run()
            run.text = item.text.replace("\n", " / ")
            run.font.size = Pt(size)
            run.font.bold = item.bold or None
            run.font.italic = item.gap or item.italic or None
            run.font.color.rgb = RGBColor(*(MUTED if item.gap else INK))


def render_pptx(doc: Document) -> bytes:
    from pptx import Presentation
    from pptx.dml.color import RGBColor
    from pptx.enum.text import MSO_AUTO_SIZE
    from pptx.util import Inches, Pt

    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    props = deck.core_properties
    props.title = doc.deck_title or doc.title
    props.author = doc.author
    props.subject = doc.district
    props.language = doc.language
    title_layout, content_layout = deck.slide_layouts[0], deck.slide_layouts[1]

    def place(slide: Any) -> None:
        title, body = slide.placeholders[0], slide.placeholders[1]
        title.left, title.top, title.width, title.height = (
            Inches(0.7), Inches(0.4), Inches(11.9), Inches(1.2))
        body.left, body.top, body.width, body.height = (
            Inches(0.7), Inches(1.7), Inches(11.9), Inches(5.1))

    first = deck.slides.add_slide(title_layout)
    heading, byline_box = first.placeholders[0], first.placeholders[1]
    heading.left, heading.top, heading.width, heading.height = (
        Inches(0.9), Inches(1.6), Inches(11.5), Inches(2.2))
    byline_box.left, byline_box.top, byline_box.width, byline_box.height = (
        Inches(0.9), Inches(4.1), Inches(11.5), Inches(2.0))
    first.shapes.title.text = doc.deck_title or doc.title
    first.shapes.title.text_frame.paragraphs[0].runs[0].font.color.rgb = RGBColor(*ACCENT)
    byline = [doc.district, doc.byline, doc.date_text]
    _fill(first.placeholders[1].text_frame,
          [(Run(part),) for part in byline if part], 20)
    first.notes_slide.notes_text_frame.text = (
        f"{doc.deck_title or doc.title}. {doc.footer} {doc.disclaimer}")

    for spec in doc.slides:
        slide = deck.slides.add_slide(content_layout)
        place(slide)
        slide.shapes.title.text = spec.title
        slide.shapes.title.text_frame.paragraphs[0].runs[0].font.color.rgb = RGBColor(*ACCENT)
        shown: list[Runs] = []
        in_full: list[str] = []
        for point in spec.points:
            runs = []
            for item in point:
                if item.answer and len(item.text) > SLIDE_LIMIT:
                    runs.append(Run(shorten(item.text), item.bold, item.italic, None, True))
                    in_full.append(item.text)
                else:
                    runs.append(item)
            shown.append(tuple(runs))
        frame = slide.placeholders[1].text_frame
        _fill(frame, shown, 20 if len(shown) <= 4 else 17)
        frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
        notes = spec.notes
        if in_full:
            notes += "\n\nIn full:\n" + "\n\n".join(in_full)
        slide.notes_slide.notes_text_frame.text = notes

    last = deck.slides.add_slide(content_layout)
    place(last)
    last.shapes.title.text = doc.labels.sources
    frame = last.placeholders[1].text_frame
    _fill(frame, [(Run(source),) for source in doc.sources], 11)
    frame.auto_size = MSO_AUTO_SIZE.TEXT_TO_FIT_SHAPE
    last.notes_slide.notes_text_frame.text = f"{doc.disclaimer} {doc.footer}"
    for paragraph in frame.paragraphs:
        paragraph.space_after = Pt(4)
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()
