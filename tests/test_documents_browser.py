"""A learner on a laptop makes her leadership briefing on Module 1's page, in a real browser:
she gives her district, name and role once, answers the briefing prompts, and downloads the
briefing as Word and PDF and the slide deck, by mouse and by keyboard; each file then opens
in the tool a district would use (python-docx, poppler's pdftotext, python-pptx)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from . import test_pages
from .test_pages import assert_no_code, open_page
from .test_start import lab

pytestmark = [pytest.mark.slow, pytest.mark.browser]
M01 = "m01-making-the-case"
DISTRICT = "Thị Lan Nguyễn Unified School District"
ANSWERS = {
    "Your district's top student-data risk":
        "Teachers use over 40 free apps <script>alert(1)</script>, and none has an agreement.",
    "What your district already does well": "MFA for all staff accounts.",
    "Your ask: who should own privacy, and what leadership should approve":
        "Name the COO privacy official, with 20% of her time, at the December cabinet meeting.",
    "Your first 90 days (three to five steps, with dates)":
        "By Jan 15: list every app. By Mar 15: report to the board.",
}
browser = test_pages.browser  # the pages' chromium, one per test module


def download(page, name: str, dest: Path, keyboard: bool = False) -> Path:
    """Click (or focus and press Enter on) a download link; return the saved file."""
    link = page.get_by_role("link", name=name, exact=True)
    with page.expect_download(timeout=30_000) as info:
        if keyboard:
            link.focus()
            page.keyboard.press("Enter")
        else:
            link.click()
    target = dest / info.value.suggested_filename
    info.value.save_as(target)
    return target


def test_m01_briefing_downloads_as_word_pdf_and_slides(browser, course_copy, tmp_path):
    import docx
    from pptx import Presentation

    workspace = tmp_path / "learner"
    module = workspace / "privacy-course" / M01
    with lab(course_copy, f"--workspace={workspace}") as base:
        page = browser.new_page(accept_downloads=True)
        open_page(page, base, M01)
        assert_no_code(page)
        page.get_by_text("Still to answer before this document is written").wait_for()
        assert not list(module.glob("my-leadership-briefing*"))  # nothing before she asks

        for label, value in (("District or school system", DISTRICT),
                             ("Your name", "Thị Lan Nguyễn"),
                             ("Your role", "Chief Technology Officer")):
            field = page.get_by_label(label, exact=True)
            field.fill(value)
            field.press("Tab")  # the field saves when she leaves it
        page.get_by_role("checkbox", name="Principle 8:", exact=False).check()
        for label, text in ANSWERS.items():
            box = page.get_by_label(label, exact=True)
            box.fill(text)
            box.press("Tab")
        page.get_by_text("Saved in this module's folder and updated as you change your "
                         "answers.").wait_for(timeout=60_000)
        assert_no_code(page)
        profile = json.loads((module.parent / ".privacy-course" / "profile.json").read_text())
        assert profile["district"] == DISTRICT  # asked once, kept for the whole course

        saved = tmp_path / "downloads"
        saved.mkdir()
        word = download(page, "Download as Word (.docx)", saved)
        pdf = download(page, "Download as PDF", saved, keyboard=True)
        deck = download(page, "Download the slide deck (.pptx)", saved)
        assert [word.name, pdf.name, deck.name] == [
            "my-leadership-briefing.docx", "my-leadership-briefing.pdf",
            "my-leadership-briefing.pptx"]
        page.close()

    text = "\n".join(p.text for p in docx.Document(str(word)).paragraphs)
    assert DISTRICT in text and ANSWERS["Your district's top student-data risk"] in text
    assert "Principle 8: Staff and providers see only the minimum data they need." in text
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext is needed (Debian: apt-get install poppler-utils)"
    pdf_text = subprocess.run([pdftotext, str(pdf), "-"], check=True, capture_output=True,
                              text=True).stdout
    assert DISTRICT in pdf_text and "Chief Technology Officer" in pdf_text
    slides = Presentation(str(deck)).slides
    shown = "\n".join(shape.text_frame.text for slide in slides for shape in slide.shapes
                      if shape.has_text_frame)
    assert 5 <= len(slides) <= 7 and DISTRICT in shown
    assert ANSWERS["Your ask: who should own privacy, and what leadership should approve"] in shown
    assert all(slide.notes_slide.notes_text_frame.text.strip() for slide in slides)
    # the files she downloaded are the ones saved beside her notebook
    assert word.read_bytes() == (module / word.name).read_bytes()
