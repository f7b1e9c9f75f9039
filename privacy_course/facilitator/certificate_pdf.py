"""The PDF of a certificate (fpdf2), with every learner's name printed as typed.

Names come in every script. The PDF embeds the bundled DejaVu Sans (Latin with every diacritic,
Vietnamese included, Greek, Cyrillic, Arabic, Hebrew) and shapes text with HarfBuzz (the
`uharfbuzz` package: Arabic letters joined and written right to left). For letters DejaVu
lacks (Chinese, Japanese, Korean, Thai, ...) it looks for a font that has them: first the files
in `c.CourseSettings.certificate_fonts`, then the fonts fontconfig knows on this machine (on
Debian, `apt-get install fonts-noto-cjk` brings Chinese, Japanese and Korean). Letters no font
has are reported back, so `certificates` can say whose PDF lacks them; the HTML certificate
shows every name as typed, in the reader's browser fonts.
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from privacy_course.fonts import font_path

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
NAVY = (29, 53, 87)
GREY = (85, 85, 85)


@cache
def _coverage(path: str, index: int) -> frozenset[int]:
    """The characters a font file (face `index` of a collection) has glyphs for."""
    from fontTools.ttLib import TTFont

    try:
        with TTFont(path, fontNumber=index, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except Exception:  # an unreadable or foreign font file: it covers nothing
        return frozenset()


def _fontconfig(char: str) -> list[tuple[str, int]]:
    """The font files fontconfig knows that have `char`, as (file, face index)."""
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    try:
        out = subprocess.run([fc_list, "-f", "%{file}\t%{index}\n", f":charset={ord(char):x}"],
                             capture_output=True, text=True, timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    found = []
    for line in sorted(set(out.splitlines())):
        file, _, index = line.partition("\t")
        if file.lower().endswith(FONT_SUFFIXES):
            found.append((file, int(index or 0)))
    return found


def _letters(text: str) -> set[str]:
    """The characters of `text` that need a glyph (not spaces, not bidi or other controls)."""
    return {c for c in text if not c.isspace() and unicodedata.category(c)[0] != "C"}


@dataclass(frozen=True)
class Fonts:
    """The fonts one certificate needs beyond DejaVu Sans, and the letters none of them has."""

    fallbacks: tuple[tuple[str, int], ...]
    missing: str


def fonts_for(text: str, extra: list[str] | tuple[str, ...] = ()) -> Fonts:
    """Fallback fonts covering the letters of `text` that DejaVu Sans lacks."""
    need = {c for c in _letters(text) if ord(c) not in _coverage(str(font_path()), 0)}
    chosen: list[tuple[str, int]] = []
    candidates = [(str(Path(p)), 0) for p in extra]
    for char in sorted(need):
        if char not in need:
            continue
        for candidate in candidates + _fontconfig(char):
            covered = {c for c in need if ord(c) in _coverage(*candidate)}
            if char in covered:
                if candidate not in chosen:
                    chosen.append(candidate)
                need -= covered
                break
    return Fonts(tuple(chosen), "".join(sorted(need)))


def _pdf(fonts: Fonts) -> Any:
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="Letter")
    pdf.set_auto_page_break(False)
    pdf.add_font("dejavu", "", str(font_path()))
    pdf.add_font("dejavu", "B", str(font_path(bold=True)))
    names = []
    for i, (file, index) in enumerate(fonts.fallbacks):
        pdf.add_font(f"fallback{i}", "", file, collection_font_number=index)
        names.append(f"fallback{i}")
    if names:
        # Bold text falls back to a regular face when the fallback font has no bold.
        pdf.set_fallback_fonts(names, exact_match=False)
    return pdf


def needs_shaping(text: str) -> bool:
    """Whether `text` needs HarfBuzz: right-to-left letters, combining marks or scripts whose
    letters change shape (shaping every line would make each certificate several times
    slower)."""
    return any(unicodedata.bidirectional(c) in ("R", "AL", "AN")
               or unicodedata.category(c) in ("Mn", "Mc") or ord(c) >= 0x0900 for c in text)


def write_certificate_pdf(path: Path, facts: dict[str, Any], fonts: Fonts,
                          credential: Path | None = None) -> Path:
    """One landscape Letter page from the same facts as the HTML certificate; the signed
    credential is attached to the PDF as well (readers show it among the file's attachments)."""
    pdf = _pdf(fonts)
    pdf.set_title(f"{facts['title']}: {facts['name']}")
    pdf.set_author(facts["issuer"])
    pdf.set_subject(facts["course"])
    pdf.set_lang("en")
    pdf.add_page()
    width = pdf.w - 2 * 20
    pdf.set_draw_color(*NAVY)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, pdf.w - 26, pdf.h - 26)

    def line(text: str, size: float, style: str = "", height: float = 0, colour: Any = NAVY,
             top: float | None = None) -> None:
        if top is not None:
            pdf.set_y(top)
        pdf.set_x(20)
        pdf.set_font("dejavu", style, size)
        pdf.set_text_shaping(needs_shaping(text))
        pdf.set_text_color(*colour)
        pdf.multi_cell(width, height or size * 0.55, text, align="C", new_x="LMARGIN",
                       new_y="NEXT")

    line(facts["issuer"].upper(), 11, "B", colour=GREY, top=22)
    line(facts["title"], 30, "B", top=34)
    line("This certifies that", 13, colour=GREY, top=56)
    line(facts["name"], 26, "B", top=66)
    line("has completed", 13, colour=GREY, top=84)
    line(facts["course"], 17, "B", top=92)
    line(facts["summary"], 11.5, colour=GREY)
    pdf.set_y(pdf.get_y() + 4)
    column = (width - 10) / 2
    top = pdf.get_y()
    for i, title in enumerate(facts["modules"]):
        half = len(facts["modules"]) - len(facts["modules"]) // 2
        x = 20 + (0 if i < half else column + 10)
        if i == half:
            pdf.set_y(top)
        pdf.set_x(x)
        pdf.set_font("dejavu", "", 8.5)
        pdf.set_text_shaping(needs_shaping(title))
        pdf.set_text_color(*GREY)
        pdf.multi_cell(column, 4.2, title, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(pdf.get_y() + 0.8)

    # Signature line (left) and date (right).
    base = pdf.h - 48
    pdf.set_draw_color(*GREY)
    pdf.line(30, base, 120, base)
    pdf.line(pdf.w - 110, base, pdf.w - 30, base)
    for x, lines in ((30, [facts["signer"], facts["signer_title"]]),
                     (pdf.w - 110, [facts["issued_on"], "Date issued"])):
        pdf.set_y(base + 1.5)
        for i, text in enumerate(t for t in lines if t):
            pdf.set_x(x)
            pdf.set_font("dejavu", "B" if i == 0 else "", 10 if i == 0 else 9)
            pdf.set_text_color(*(NAVY if i == 0 else GREY))
            pdf.set_text_shaping(needs_shaping(text))
            pdf.cell(90 if x == 30 else 80, 5, text, new_x="LMARGIN", new_y="NEXT")
    line(f"Certificate number {facts['number']}   ·   issuer key {facts['fingerprint']}", 8.5,
         colour=GREY, top=pdf.h - 30)
    line(facts["verify_note"], 7.5, colour=GREY)
    if credential is not None:
        pdf.embed_file(str(credential), desc="Signed credential (Open Badges 3.0)")
    pdf.output(str(path))
    return path
