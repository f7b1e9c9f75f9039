"""The work products as documents worth handing over: every template of the course, filled with
missing, very long and hostile answers, rendered to a page, a Word file and a PDF (and Module
1's slide deck), then read back with the tools a district would open them with: the HTML
parsed, the .docx read by python-docx, the PDF by poppler's `pdftotext`, the deck by
python-pptx. Plus the module page's panel: nothing written until asked for or complete, the
learner's details asked once, and the family guide in English, Spanish or both."""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from privacy_course.authoring.build import module_ids
from privacy_course.authoring.content import ContentError, load_module_content
from privacy_course.learner.documents import load_template
from privacy_course.learner.documents.files import document_written
from privacy_course.learner.documents.model import clean_text
from privacy_course.learner.module import Module
from privacy_course.learner.profile import load_profile, read_profile, save_profile

from .conftest import ROOT

DISTRICT = "Thị Lan Nguyễn Unified School District"
AUTHOR = "Thị Lan Nguyễn"
HOSTILE = ("<script>window.__pc=1</script> <img src=x onerror=alert(1)> "
           "[click me](javascript:alert(1)) **not bold** <b>not bold</b> # not a heading\n"
           "- not a list item\n| not | a table |\n&amp; {top-risk} ]]> \x00\x0b end")
SCRIPTS = "Escuela مدرسة الأمل and בית ספר and 北京市第一中学 and Ελληνικά and Кириллица"
LONG = ("The district will review every app. " * 560)[:20_000]


def work_products() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(module, template, output, languages) of every work product, read from the notebooks."""
    found = []
    call = re.compile(r'work_product\("([^"]+)", "([^"]+)"(?:,\s*languages=\(([^)]*)\))?\)')
    for module_id in module_ids(ROOT):
        text = (ROOT / "modules" / module_id / f"{module_id}.md").read_text(encoding="utf-8")
        for template, output, languages in call.findall(text):
            codes = tuple(re.findall(r'"([a-z]{2})"', languages)) or ("en",)
            found.append((module_id, template, output, codes))
    return found


WORK_PRODUCTS = work_products()
IDS = [output for _, _, output, _ in WORK_PRODUCTS]
# Rendering 100,000 characters takes a few seconds per document: Module 1's briefing (and its
# deck) in the quick loop, the others with the slow tests.
LONG_CASES = [pytest.param(*case, id=case[2],
                           marks=() if case[0] == "m01-making-the-case" else pytest.mark.slow)
              for case in WORK_PRODUCTS]


def learner_folder(tmp_path: Path, module_id: str) -> Path:
    """A module as a learner's server holds it: content in the hidden folder."""
    folder = tmp_path / "course" / module_id
    shutil.copytree(ROOT / "modules" / module_id, folder / ".content",
                    ignore=shutil.ignore_patterns(f"{module_id}.md", "facilitator.md"))
    return folder


def answer_everything(course: Module, text: str) -> None:
    """Every prompt answered: `text` in each text box, every item ticked, the first choice."""
    for key, prompt in course.content.prompts.items():
        if prompt["kind"] == "text":
            course.record(key, text)
        elif prompt["kind"] == "checklist":
            course.record(key, [item["id"] for item in prompt["items"]])
        else:
            course.record(key, prompt["items"][0]["id"])


class Markup(HTMLParser):
    """What a browser would make live in a page: elements, event handlers, link targets."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.handlers: list[str] = []
        self.targets: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append(name)
            if name in ("href", "src"):
                self.targets.append(value or "")

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_page(path: Path) -> Markup:
    parser = Markup()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def docx_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    parts += [p.text for section in document.sections for p in section.header.paragraphs]
    return "\n".join(parts)


def pdf_text(path: Path) -> str:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext is needed (Debian: apt-get install poppler-utils)"
    return subprocess.run([pdftotext, "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def pptx_text(path: Path) -> tuple[int, str, str]:
    """(number of slides, the slides' text, the speaker notes' text)."""
    from pptx import Presentation

    deck = Presentation(str(path))
    shown, notes = [], []
    for slide in deck.slides:
        shown += [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        notes.append(slide.notes_slide.notes_text_frame.text)
    return len(deck.slides), "\n".join(shown), "\n".join(notes)


def squash(text: str) -> str:
    return " ".join(text.split())


# -- the templates ------------------------------------------------------------------------------
@pytest.mark.parametrize("module_id, template, output, languages", WORK_PRODUCTS, ids=IDS)
def test_every_template_is_valid_and_uses_only_its_modules_prompts(module_id, template, output,
                                                                    languages):
    folder = ROOT / "modules" / module_id
    prompts = load_module_content(folder, module_id).prompts
    header = (folder / f"{module_id}.md").read_text(encoding="utf-8")
    english = load_template(folder / template)
    assert english.language == languages[0] == "en"
    for code in languages:
        name = template if code == "en" else template.replace(".md", f".{code}.md")
        loaded = load_template(folder / name)
        assert loaded.language == code
        unknown = [key for key in loaded.placeholders() if key not in prompts]
        assert not unknown, f"{name}: placeholders with no prompt: {unknown}"
        assert f"current as of {loaded.meta['current_as_of']}" in " ".join(header.split())
        # a translation carries the same answers and the same sources as the English
        assert loaded.placeholders() == english.placeholders(), name
        assert len(loaded.meta["sources"]) == len(english.meta["sources"]), name
        for key, items in loaded.meta.get("items", {}).items():
            assert set(items) == {i["id"] for i in prompts[key]["items"]}, (name, key)


@pytest.mark.parametrize("text, message", [
    ("# No front matter\n", "must start with a front matter"),
    ("---\ntitle: T\ncurrent_as_of: December 2026\ndisclaimer: D\n---\nbody\n", "sources"),
    ("---\ntitle: T\ncurrent_as_of: Dec 2026\ndisclaimer: D\nsources: [S]\n---\n",
     "current_as_of"),
    ("---\ntitle: T\ncurrent_as_of: December 2026\ndisclaimer: D\nsources: [S]\ncolour: red\n"
     "---\n", "colour: unknown key"),
    ("---\ntitle: T\ncurrent_as_of: December 2026\ndisclaimer: D\nsources: [S]\n---\n# Title\n",
     "front matter"),
    ("---\ntitle: T\ncurrent_as_of: December 2026\ndisclaimer: D\nsources: [S]\n---\n"
     "- a\n  - nested\n", "lists inside lists"),
    ("---\ntitle: [unclosed\n---\n", "not valid YAML"),
])
def test_a_broken_template_is_refused_with_its_file_named(tmp_path, text, message):
    path = tmp_path / "memo-template.md"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match="memo-template.md") as raised:
        load_template(path)
    assert message in str(raised.value)


def test_clean_text_keeps_words_and_drops_what_no_format_can_hold():
    assert clean_text("a\r\nb\x00c\x0bd\ud800e\u00e9") == "a\nbcde\u00e9"
    assert clean_text("Nguye\u0302\u0303n") == "Nguyễn"  # composed, as fonts expect


# -- every work product, every format, with hard input ---------------------------------------
@pytest.mark.parametrize("module_id, template, output, languages", WORK_PRODUCTS, ids=IDS)
def test_hostile_answers_stay_text_in_every_format(tmp_path, monkeypatch, module_id, template,
                                                   output, languages):
    folder = learner_folder(tmp_path, module_id)
    monkeypatch.chdir(folder)
    save_profile(folder.parent, district=DISTRICT + " <i>x</i>", author=AUTHOR,
                 role="CTO](javascript:alert(1))")
    course = Module(module_id, folder)
    answer_everything(course, HOSTILE)
    paths = course.write_work_product(template, output, languages)
    written = {path.suffix for path in paths}
    assert {".html", ".docx", ".pdf"} <= written
    typed = clean_text(HOSTILE)
    for page in (p for p in paths if p.suffix == ".html"):
        parsed = read_page(page)
        assert "script" not in parsed.tags and "img" not in parsed.tags and "b" not in parsed.tags
        assert parsed.handlers == []
        assert not [t for t in parsed.targets if not t.startswith(("http://", "https://"))]
        assert squash(typed) in squash("".join(parsed.text))
        assert f"{DISTRICT} <i>x</i>" in "".join(parsed.text)
    for word_file in (p for p in paths if p.suffix == ".docx"):
        text = docx_text(word_file)
        assert typed.split("\n")[0] in text and "| not | a table |" in text
        assert f"{DISTRICT} <i>x</i>" in text and "CTO](javascript:alert(1))" in text
    for pdf in (p for p in paths if p.suffix == ".pdf"):
        text = squash(pdf_text(pdf))
        assert DISTRICT in text
        assert "<script>window.__pc=1</script>" in text
        assert "[click me](javascript:alert(1))" in text
    for deck in (p for p in paths if p.suffix == ".pptx"):
        slides, shown, notes = pptx_text(deck)
        assert 5 <= slides <= 7
        assert "<script>window.__pc=1</script>" in shown and DISTRICT in shown
        assert all(notes.split("\n")), "every slide has speaker notes"


@pytest.mark.parametrize("module_id, template, output, languages", LONG_CASES)
def test_a_20000_character_answer_is_kept_whole(tmp_path, monkeypatch, module_id, template,
                                                output, languages):
    folder = learner_folder(tmp_path, module_id)
    monkeypatch.chdir(folder)
    save_profile(folder.parent, district=DISTRICT)
    course = Module(module_id, folder)
    answer_everything(course, LONG)
    paths = course.write_work_product(template, output, languages[:1])
    tail = LONG.strip()[-60:]
    page = next(p for p in paths if p.suffix == ".html")
    assert LONG.strip() in "".join(read_page(page).text)
    assert LONG.strip() in docx_text(next(p for p in paths if p.suffix == ".docx"))
    text = squash(pdf_text(next(p for p in paths if p.suffix == ".pdf")))
    assert DISTRICT in text and squash(tail) in text
    assert text.count("The district will review every app.") >= 500
    for deck in (p for p in paths if p.suffix == ".pptx"):
        _, shown, notes = pptx_text(deck)
        assert "…" in shown and LONG.strip() in notes  # cut on the slide, whole in the notes


def test_right_to_left_and_other_scripts(tmp_path, monkeypatch):
    module_id = "m01-making-the-case"
    folder = learner_folder(tmp_path, module_id)
    monkeypatch.chdir(folder)
    save_profile(folder.parent, district="مدرسة الأمل District", author="דוד כהן", role="CTO")
    course = Module(module_id, folder)
    answer_everything(course, SCRIPTS)
    paths = course.write_work_product("briefing-template.md", "my-leadership-briefing")
    page = next(p for p in paths if p.suffix == ".html")
    assert SCRIPTS in "".join(read_page(page).text)
    assert 'dir="auto"' in page.read_text(encoding="utf-8")
    assert SCRIPTS in docx_text(next(p for p in paths if p.suffix == ".docx"))
    text = pdf_text(next(p for p in paths if p.suffix == ".pdf"))
    # Shaped right-to-left text comes back in reading order; Latin, Greek and Cyrillic as
    # typed; Chinese, which the bundled font cannot draw, is marked rather than dropped.
    for word in ("مدرسة", "בית", "Ελληνικά", "Кириллица", "District"):
        assert word in text, word
    assert "\ufffd" in text and "北京" not in text
    _, shown, _ = pptx_text(next(p for p in paths if p.suffix == ".pptx"))
    assert "北京市第一中学" in shown


@pytest.mark.parametrize("module_id, template, output, languages", WORK_PRODUCTS, ids=IDS)
def test_unanswered_prompts_are_marked_in_the_document(tmp_path, monkeypatch, module_id,
                                                       template, output, languages):
    folder = learner_folder(tmp_path, module_id)
    monkeypatch.chdir(folder)
    course = Module(module_id, folder)
    paths = course.write_work_product(template, output, languages[:1])
    prompts = load_template(folder / ".content" / template).placeholders()
    labels = [course.content.prompts[key]["label"] for key in prompts]
    page = "".join(read_page(next(p for p in paths if p.suffix == ".html")).text)
    word = docx_text(next(p for p in paths if p.suffix == ".docx"))
    pdf = squash(pdf_text(next(p for p in paths if p.suffix == ".pdf")))
    for label in labels:
        assert f"[To be written: {label}]" in page
        assert f"[To be written: {label}]" in word
    assert "[To be written:" in pdf and "Not legal advice. Current as of December 2026." in pdf
    assert not re.search(r"\{[a-z0-9-]+\}", page)  # no raw placeholder left


# -- the page's panel ---------------------------------------------------------------------------
M01 = "m01-making-the-case"
BRIEFING = ("briefing-template.md", "my-leadership-briefing")


def m01(tmp_path: Path, monkeypatch) -> tuple[Path, Module]:
    folder = learner_folder(tmp_path, M01)
    monkeypatch.chdir(folder)
    return folder, Module(M01, folder)


def test_nothing_is_written_before_the_learner_asks(tmp_path, monkeypatch):
    folder, course = m01(tmp_path, monkeypatch)
    panel = course.work_product(*BRIEFING)
    assert list(folder.glob("my-*")) == []
    assert "Still to answer before this document is written" in panel.status.value
    assert "Your district's top student-data risk" in html.unescape(panel.status.value)
    assert panel.create_button.layout.display != "none"
    assert "[To be written:" in panel.preview.value  # the preview shows the gaps
    course.progress()
    assert "Your document: your leadership briefing" in course.widgets["progress"].panel.value
    panel.create_button.click()
    names = sorted(p.name for p in folder.glob("my-*"))
    assert names == [f"my-leadership-briefing{s}" for s in (".docx", ".html", ".pdf", ".pptx")]
    assert panel.create_button.layout.display == "none"
    assert "with gaps marked for" in panel.status.value
    assert document_written(folder, "my-leadership-briefing")


def test_the_document_is_written_once_every_prompt_is_answered(tmp_path, monkeypatch):
    folder, course = m01(tmp_path, monkeypatch)
    widgets = {key: course.prompt(key) for key in course.content.prompts}
    panel = course.work_product(*BRIEFING)
    widgets["principles-today"].controls[0].value = True
    for key in ("top-risk", "current-practice", "the-ask"):
        widgets[key].controls[0].value = f"Our answer to {key}."
        assert not (folder / "my-leadership-briefing.docx").exists()
    widgets["first-90-days"].controls[0].value = "By Jan 15: list every app."
    assert (folder / "my-leadership-briefing.docx").is_file()
    assert "updated as you change your answers" in panel.status.value
    links = re.findall(r'<a download="([^"]+)" href="data:([^;]+);base64,([^"]+)">([^<]+)</a>',
                       panel.downloads.value)
    assert [label for *_, label in links] == [
        "Download as Word (.docx)", "Download as PDF", "Download the print-ready page (.html)",
        "Download the slide deck (.pptx)"]
    for name, _mime, data, _label in links:
        assert base64.b64decode(data) == (folder / name).read_bytes()
    # a later answer rewrites the files (here at once: no event loop runs in a test)
    before = (folder / "my-leadership-briefing.html").read_bytes()
    widgets["the-ask"].controls[0].value = "Name the COO privacy official by December 15."
    after = (folder / "my-leadership-briefing.html").read_bytes()
    assert before != after and b"by December 15" in after
    assert "by December 15" in docx_text(folder / "my-leadership-briefing.docx")


def test_unchanged_documents_are_not_written_again(tmp_path, monkeypatch):
    folder, course = m01(tmp_path, monkeypatch)
    answer_everything(course, "Our answer.")
    course.work_product(*BRIEFING)
    pdf = folder / "my-leadership-briefing.pdf"
    stamp = pdf.stat().st_mtime_ns
    again = Module(M01, folder).work_product(*BRIEFING)  # the page opened again
    assert pdf.stat().st_mtime_ns == stamp
    assert "my-leadership-briefing.pdf" in again.downloads.value


def test_the_learners_details_are_asked_once_for_the_whole_course(tmp_path, monkeypatch):
    folder, course = m01(tmp_path, monkeypatch)
    panel = course.work_product(*BRIEFING)
    fields = panel.fields
    assert [f.description for f in fields.values()] == [
        "District or school system", "Your name", "Your role"]
    assert all(not f.continuous_update for f in fields.values())
    assert "Before you start" in panel.profile_box.children[0].value
    fields["district"].value = DISTRICT
    fields["author"].value = AUTHOR
    fields["role"].value = "Chief Technology Officer"
    assert read_profile(folder.parent).district == DISTRICT  # the course folder
    assert "Saved." in panel.profile_note.value and "Still needed" not in panel.profile_note.value
    assert DISTRICT in panel.preview.value and "Chief Technology Officer" in panel.preview.value
    panel.create_button.click()
    assert DISTRICT in squash(pdf_text(folder / "my-leadership-briefing.pdf"))
    # a later module has them without asking
    later = learner_folder(tmp_path, "m02-ferpa")
    other = Module("m02-ferpa", later).work_product("decision-guide-template.md",
                                                    "my-disclosure-decision-guide")
    assert load_profile(later).author == AUTHOR
    assert "Before you start" not in other.profile_box.children[0].value
    assert DISTRICT in other.profile_box.children[0].value
    assert DISTRICT in other.preview.value


def test_the_family_guide_in_english_spanish_or_both(tmp_path, monkeypatch):
    module_id = "m08-trust-communication"
    folder = learner_folder(tmp_path, module_id)
    monkeypatch.chdir(folder)
    save_profile(folder.parent, district=DISTRICT, author=AUTHOR, role="Superintendent")
    course = Module(module_id, folder)
    course.record("what-we-collect", "We collect attendance and grades to teach your child.")
    course.record("how-it-helps", "Reading checks show who needs help early.")
    course.record("how-protected", "Staff see only what their job requires.")
    course.record("guide-formats", ["f-paper", "f-phone"])
    panel = course.work_product("parent-explainer-template.md", "my-parent-privacy-explainer",
                                languages=("en", "es"))
    english, spanish = panel.language_boxes
    assert (english.description, english.value) == ("English", True)
    assert (spanish.description, spanish.value) == ("Spanish (español)", False)
    assert (folder / "my-parent-privacy-explainer.docx").is_file()
    assert not (folder / "my-parent-privacy-explainer-es.docx").exists()
    spanish.value = True
    english.value = False
    assert (folder / "my-parent-privacy-explainer-es.pdf").is_file()
    assert course.store.answer("languages:my-parent-privacy-explainer") == ["es"]
    text = squash(pdf_text(folder / "my-parent-privacy-explainer-es.pdf"))
    for fixed in ("La información de su hijo o hija en nuestras escuelas", "Sus derechos",
                  "Ley de Derechos Educativos y Privacidad Familiar",
                  "En papel, en la oficina de cada escuela",
                  "Explicada por teléfono, con un intérprete",
                  "No constituye asesoramiento legal. Información vigente a diciembre de 2026.",
                  "34 CFR 99.7(a)", "34 CFR 99.37(a)", "Preparado por: Thị Lan Nguyễn"):
        assert fixed in text, fixed
    # her answers stay in the language she wrote them in
    assert "We collect attendance and grades to teach your child." in text
    word = docx_text(folder / "my-parent-privacy-explainer-es.docx")
    assert "¿Cómo la protegemos?" in word and "Staff see only what their job requires." in word
    assert "Spanish (español)" in panel.downloads.value
    assert "Preview: Spanish (español)" in panel.preview.value
    assert document_written(folder, "my-parent-privacy-explainer")
    english.value = spanish.value = False
    assert "Choose at least one language" in panel.status.value


def test_a_folder_that_cannot_be_written_is_said_in_plain_words(tmp_path, monkeypatch):
    folder, course = m01(tmp_path, monkeypatch)
    answer_everything(course, "Our answer.")
    (folder / "my-leadership-briefing.pdf").mkdir()  # a name the writer cannot replace
    panel = course.work_product(*BRIEFING)
    status = html.unescape(panel.status.value)
    assert "could not be saved in this module's folder" in status
    assert "Your answers are safe" in status and "Traceback" not in status
    assert panel.create_button.layout.display != "none"  # she can try again


def test_template_front_matter_is_yaml_the_build_ships(root):
    """The templates ship in the hidden content folder like every other content file."""
    for module_id, template, _output, languages in WORK_PRODUCTS:
        shipped = root / "source" / module_id / ".content"
        for code in languages:
            name = template if code == "en" else template.replace(".md", f".{code}.md")
            assert (shipped / name).is_file(), f"{module_id}: {name} not in the build"
            assert yaml.safe_load(
                (root / "modules" / module_id / name).read_text().split("---\n")[1])


@pytest.mark.parametrize("state, expect", [
    ("NY", ["New York", "N.Y. Educ. Law § 2-d"]),  # a covered state: its rules, cited
    ("WY", ["Federal baseline", "does not cover Wyoming"]),  # not covered: the baseline
    ("", ["No state chosen yet"]),
])
def test_the_law_matrix_carries_the_learners_state(tmp_path, monkeypatch, state, expect):
    module_id = "m03-laws-together"
    folder = learner_folder(tmp_path, module_id)
    shutil.copy2(ROOT / "release" / module_id / ".content" / "states.json",
                 folder / ".content" / "states.json")
    monkeypatch.chdir(folder)
    save_profile(folder.parent, district="Riverside USD", author="Dana Ruiz", role="CTO",
                 state=state)
    course = Module(module_id, folder)
    answer_everything(course, "Our answer.")
    paths = course.write_work_product("law-matrix-template.md", "my-law-matrix")
    page = next(p for p in paths if p.suffix == ".html").read_text(encoding="utf-8")
    word = docx_text(next(p for p in paths if p.suffix == ".docx"))
    for text in expect:
        assert text in html.unescape(page), text
        assert text in word, text
    if state == "NY":  # every rule links to its official text
        assert 'href="https://' in page and ".gov" in page


@pytest.mark.parametrize("state, expect", [
    ("NY", "This depends on state law. In New York:"),
    ("", "Choose your state in this module"),
])
def test_scenario_feedback_that_depends_on_state_law_says_so(tmp_path, monkeypatch, state,
                                                            expect):
    """A choice marked with a `state_topic` adds her state's rule to its feedback, or says
    that the answer depends on her state."""
    module_id = "m04-governance"
    folder = learner_folder(tmp_path, module_id)
    shutil.copy2(ROOT / "release" / module_id / ".content" / "states.json",
                 folder / ".content" / "states.json")
    monkeypatch.chdir(folder)
    save_profile(folder.parent, state=state)
    widget = Module(module_id, folder).scenario("iep-wrong-parent")
    widget.choose("start", "validate")
    widget.proceed()
    widget.choose("scope", "team-counsel")
    shown = "".join(getattr(child, "value", "") for child in widget.children)
    assert expect in html.unescape(shown)
    if state:
        assert "8 NYCRR" in shown and 'href="https://' in shown
