"""A work product's template: the course's fixed text, with `{prompt-id}` where the learner's
answers go, turned into a `Document`.

A template is a Markdown file shipped in the module's hidden content folder, with a YAML front
matter for what is not body text:

    ---
    title: "Student data privacy: a one-page leadership briefing"
    audience: the superintendent and cabinet          # optional ("For: ...")
    subtitle: A plain-language guide for families     # optional
    language: en                                      # en (default) or es
    current_as_of: December 2026
    disclaimer: This briefing is not legal advice; consult the district's counsel.
    sources:
      - K12 SIX, "The State of K-12 Cybersecurity: Year in Review," 2022 edition (March 2022)
    items:          # optional: choice and checklist texts in this template's language
      guide-formats: {f-paper: "En papel, en la oficina de cada escuela"}
    deck_title: Making the case for student data privacy   # optional, with slides
    slides:         # optional: a deck drawn from the same answers (Module 1)
      - title: Why student data privacy matters
        points: ["55% of ... (K12 SIX, 2022)", "Our top risk: {top-risk}"]
        notes: What to say while the slide is up.
    ---

The body is parsed as Markdown before any answer is put in, so only the course's own text is
Markdown; an answer is inserted as plain text. A placeholder alone in its paragraph becomes the
answer's own paragraphs (or a list, for a checklist); one inside a sentence, list item or table
cell becomes a run of text. `##` starts a section; `###` is a subheading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from privacy_course.authoring.content import ContentError
from privacy_course.authoring.states import TOPICS
from privacy_course.learner.documents.model import (
    LABELS,
    Block,
    Document,
    ListBlock,
    Paragraph,
    Run,
    Runs,
    Section,
    Slide,
    Subheading,
    Table,
    clean_text,
)

PLACEHOLDER = re.compile(r"\{([a-z0-9][a-z0-9-]*)\}")
CURRENT = re.compile(r"^(January|February|March|April|May|June|July|August|September|October"
                     r"|November|December) \d{4}$")
_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
_TEXT_KEYS = ("title", "subtitle", "audience", "disclaimer", "current_as_of", "language",
              "deck_title")


@dataclass(frozen=True)
class DocumentTemplate:
    """A parsed template: its front matter and its body as Markdown tokens."""

    path: Path
    meta: dict[str, Any]
    tokens: tuple[dict[str, Any], ...]

    @property
    def language(self) -> str:
        return str(self.meta.get("language", "en"))

    def placeholders(self) -> list[str]:
        """Every prompt id the template uses, in order of first use."""
        text = self.path.read_text(encoding="utf-8")
        return list(dict.fromkeys(PLACEHOLDER.findall(text)))


def _fail(path: Path, key: str, message: str) -> ContentError:
    return ContentError(f"{path.name}: {key}: {message}")


def _check_meta(path: Path, meta: Any) -> dict[str, Any]:
    """The front matter, checked by hand (jsonschema costs a learner's kernel a second)."""
    if not isinstance(meta, dict):
        raise _fail(path, "front matter", "must be a mapping of keys to values")
    known = {*_TEXT_KEYS, "sources", "items", "slides", "state_topics"}
    unknown = sorted(set(meta) - known)
    if unknown:
        raise _fail(path, unknown[0], "unknown key (known: " + ", ".join(sorted(known)) + ")")
    topics = meta.get("state_topics", [])
    if not isinstance(topics, list) or not set(topics) <= set(TOPICS):
        raise _fail(path, "state_topics", "must be a list of topics from: " + ", ".join(TOPICS))
    for key in ("title", "current_as_of", "disclaimer"):
        if not isinstance(meta.get(key), str) or not meta[key].strip():
            raise _fail(path, key, "is required and must be text")
    for key in _TEXT_KEYS:
        if key in meta and not isinstance(meta[key], str):
            raise _fail(path, key, "must be text")
    if not CURRENT.match(meta["current_as_of"]):
        raise _fail(path, "current_as_of", f"must be a month and year such as 'December 2026', "
                    f"not {meta['current_as_of']!r}")
    if meta.get("language", "en") not in LABELS:
        raise _fail(path, "language", f"must be one of {sorted(LABELS)}")
    sources = meta.get("sources")
    if not isinstance(sources, list) or not sources or not all(
            isinstance(s, str) and s.strip() for s in sources):
        raise _fail(path, "sources", "must be a list of at least one citation (text)")
    items = meta.get("items", {})
    if not isinstance(items, dict) or not all(
            isinstance(v, dict) and all(isinstance(t, str) for t in v.values())
            for v in items.values()):
        raise _fail(path, "items", "must map a prompt id to {item id: text}")
    slides = meta.get("slides", [])
    if not isinstance(slides, list):
        raise _fail(path, "slides", "must be a list")
    for i, slide in enumerate(slides):
        where = f"slides[{i}]"
        if not isinstance(slide, dict) or set(slide) - {"title", "points", "notes"}:
            raise _fail(path, where, "must have only title, points and notes")
        if not isinstance(slide.get("title"), str) or not slide["title"].strip():
            raise _fail(path, f"{where}.title", "is required and must be text")
        points = slide.get("points")
        if not isinstance(points, list) or not points or not all(
                isinstance(p, str) for p in points):
            raise _fail(path, f"{where}.points", "must be a list of at least one text")
        if not isinstance(slide.get("notes"), str) or not slide["notes"].strip():
            raise _fail(path, f"{where}.notes", "is required and must be text")
    return meta


@lru_cache(maxsize=32)
def _load(path: Path, mtime_ns: int) -> DocumentTemplate:
    import mistune

    text = path.read_text(encoding="utf-8")
    found = _FRONT.match(text)
    if not found:
        raise ContentError(f"{path.name}: must start with a front matter between two '---' "
                           "lines (title, current_as_of, disclaimer, sources)")
    try:
        meta = yaml.safe_load(found.group(1))
    except yaml.YAMLError as exc:
        raise ContentError(f"{path.name}: the front matter is not valid YAML: {exc}") from exc
    meta = _check_meta(path, meta)
    parse = mistune.create_markdown(renderer=None, plugins=["table", "task_lists"])
    tokens = parse(text[found.end():])
    assert isinstance(tokens, list)  # renderer=None: mistune's token list
    template = DocumentTemplate(path, meta, tuple(tokens))
    _check_tokens(template)
    return template


def load_template(path: Path | str) -> DocumentTemplate:
    """Read and check a template. A mistake raises a ContentError naming the file and what is
    wrong with it (the build and the course's tests read every template)."""
    path = Path(path)
    if not path.is_file():
        raise ContentError(f"{path}: no such work-product template")
    return _load(path.resolve(), path.stat().st_mtime_ns)


SUPPORTED_BLOCKS = {"heading", "paragraph", "list", "table", "thematic_break", "blank_line"}


def _check_tokens(template: DocumentTemplate) -> None:
    for token in template.tokens:
        kind = token["type"]
        if kind not in SUPPORTED_BLOCKS:
            raise ContentError(f"{template.path.name}: a {kind.replace('_', ' ')} is not "
                               "supported in a work product (use paragraphs, lists, tables, "
                               "## sections and ### subheadings)")
        if kind == "heading" and token["attrs"]["level"] == 1:
            raise ContentError(f"{template.path.name}: the title goes in the front matter "
                               "('title:'), not in a '#' heading")
        if kind == "list":
            for item in token["children"]:
                if any(child["type"] == "list" for child in item["children"]):
                    raise ContentError(f"{template.path.name}: lists inside lists are not "
                                       "supported in a work product")


class Filler:
    """Puts one learner's answers into a template. `answer(prompt_id)` reads a saved answer."""

    def __init__(self, template: DocumentTemplate, prompts: Mapping[str, dict[str, Any]],
                 answer: Callable[[str], Any]) -> None:
        self.template = template
        self.prompts = prompts
        self.answer = answer
        self.labels = LABELS[template.language]
        self.missing: list[str] = []

    # -- answers ---------------------------------------------------------------------------
    def _item_text(self, prompt: dict[str, Any], item_id: str) -> str | None:
        translated = self.template.meta.get("items", {}).get(prompt["id"], {})
        if item_id in translated:
            return str(translated[item_id])
        return next((i["text"] for i in prompt.get("items", []) if i["id"] == item_id), None)

    def values(self, key: str) -> list[str] | None:
        """The learner's answer as text: one string per paragraph, per ticked item or for
        the chosen item; None when she has not answered."""
        prompt = self.prompts[key]
        value = self.answer(key)
        if prompt["kind"] == "checklist":
            picked = [self._item_text(prompt, v) for v in value or [] if isinstance(v, str)]
            texts = [clean_text(t) for t in picked if t]
        elif prompt["kind"] == "choice":
            chosen = self._item_text(prompt, value) if isinstance(value, str) else None
            texts = [clean_text(chosen)] if chosen else []
        else:
            text = clean_text(value).strip() if isinstance(value, str) else ""
            texts = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        if not texts:
            if prompt["label"] not in self.missing:
                self.missing.append(prompt["label"])
            return None
        return texts

    def _gap(self, key: str) -> Run:
        return Run(self.labels.gap.format(label=self.prompts[key]["label"]), gap=True)

    def inline_answer(self, key: str) -> Run:
        texts = self.values(key)
        if texts is None:
            return self._gap(key)
        separator = "; " if self.prompts[key]["kind"] == "checklist" else "\n"
        return Run(separator.join(texts), answer=True)

    def block_answer(self, key: str) -> list[Block]:
        texts = self.values(key)
        if texts is None:
            return [Paragraph((self._gap(key),))]
        if self.prompts[key]["kind"] == "checklist":
            return [ListBlock(tuple((Run(t, answer=True),) for t in texts))]
        return [Paragraph((Run(t, answer=True),)) for t in texts]

    # -- text with placeholders -------------------------------------------------------------
    def text_runs(self, text: str, bold: bool = False, italic: bool = False,
                  href: str | None = None) -> list[Run]:
        """Course text, with each known placeholder replaced by the learner's answer (an
        unknown one stays visible as written, for the author to notice)."""
        runs: list[Run] = []
        position = 0
        for found in PLACEHOLDER.finditer(text):
            if found.group(1) not in self.prompts:
                continue
            if found.start() > position:
                runs.append(Run(text[position:found.start()], bold, italic, href))
            answer = self.inline_answer(found.group(1))
            runs.append(Run(answer.text, bold, italic, None, answer.answer, answer.gap))
            position = found.end()
        if position < len(text):
            runs.append(Run(text[position:], bold, italic, href))
        return runs

    def inline(self, nodes: list[dict[str, Any]], bold: bool = False, italic: bool = False,
               href: str | None = None) -> Runs:
        runs: list[Run] = []
        for node in nodes:
            kind = node["type"]
            if kind in ("text", "codespan", "inline_html"):
                runs += self.text_runs(node.get("raw", ""), bold, italic, href)
            elif kind == "strong":
                runs += self.inline(node["children"], True, italic, href)
            elif kind == "emphasis":
                runs += self.inline(node["children"], bold, True, href)
            elif kind == "link":
                runs += self.inline(node["children"], bold, italic, node["attrs"]["url"])
            elif kind == "softbreak":
                runs.append(Run(" ", bold, italic, href))
            elif kind == "linebreak":
                runs.append(Run("\n", bold, italic, href))
            elif "children" in node:
                runs += self.inline(node["children"], bold, italic, href)
        return _merge(runs)

    def _lone_placeholder(self, nodes: list[dict[str, Any]]) -> str | None:
        if len(nodes) == 1 and nodes[0]["type"] == "text":
            found = PLACEHOLDER.fullmatch(nodes[0]["raw"].strip())
            if found and found.group(1) in self.prompts:
                return found.group(1)
        return None

    # -- blocks -----------------------------------------------------------------------------
    def sections(self) -> tuple[Section, ...]:
        sections: list[Section] = []
        heading: str | None = None
        blocks: list[Block] = []
        for token in self.template.tokens:
            kind = token["type"]
            if kind == "heading" and token["attrs"]["level"] == 2:
                if heading is not None or blocks:
                    sections.append(Section(heading, tuple(blocks)))
                heading = _text(self.inline(token["children"]))
                blocks = []
            elif kind == "heading":
                blocks.append(Subheading(_text(self.inline(token["children"]))))
            elif kind == "paragraph":
                key = self._lone_placeholder(token["children"])
                if key:
                    blocks += self.block_answer(key)
                else:
                    blocks.append(Paragraph(self.inline(token["children"])))
            elif kind == "list":
                items = []
                for item in token["children"]:
                    runs: list[Run] = []
                    for child in item["children"]:
                        if runs:
                            runs.append(Run(" "))
                        runs += self.inline(child.get("children", []))
                    items.append(_merge(runs))
                boxes = any(item["type"] == "task_list_item" for item in token["children"])
                blocks.append(ListBlock(tuple(items), bool(token["attrs"].get("ordered")),
                                        boxes))
            elif kind == "table":
                head, body = token["children"]
                blocks.append(Table(
                    tuple(self.inline(cell["children"]) for cell in head["children"]),
                    tuple(tuple(self.inline(cell["children"]) for cell in row["children"])
                          for row in body["children"])))
        if heading is not None or blocks:
            sections.append(Section(heading, tuple(blocks)))
        return tuple(sections)

    def slides(self) -> tuple[Slide, ...]:
        slides = []
        for spec in self.template.meta.get("slides", []):
            points: list[Runs] = []
            for point in spec["points"]:
                key = PLACEHOLDER.fullmatch(point.strip())
                if key and key.group(1) in self.prompts:
                    texts = self.values(key.group(1))
                    points += [(Run(t, answer=True),) for t in texts] if texts else [
                        (self._gap(key.group(1)),)]
                else:
                    points.append(_merge(self.text_runs(point)))
            notes = "".join(run.text for run in self.text_runs(spec["notes"]))
            slides.append(Slide(spec["title"], tuple(points), notes))
        return tuple(slides)


def _merge(runs: list[Run]) -> Runs:
    """Adjacent runs of the same style as one (fewer, longer runs in every format)."""
    merged: list[Run] = []
    for run in runs:
        if not run.text:
            continue
        last = merged[-1] if merged else None
        if last and (last.bold, last.italic, last.href, last.answer, last.gap) == (
                run.bold, run.italic, run.href, run.answer, run.gap):
            merged[-1] = Run(last.text + run.text, run.bold, run.italic, run.href, run.answer,
                             run.gap)
        else:
            merged.append(run)
    return tuple(merged)


def _text(runs: Runs) -> str:
    return "".join(run.text for run in runs)


def state_section(template: DocumentTemplate, state: str, folder: Path | None) -> Section | None:
    """The "Your state" part of a document whose template names `state_topics`: her state's
    rules on them, each with its citation linked to the official text, or the federal baseline
    where the course does not cover her state; a sentence saying how to choose one if none is
    set. The dataset's text is English in every language of the document."""
    from privacy_course.learner.your_state import row_words, state_rows

    topics = template.meta.get("state_topics") or []
    if not topics:
        return None
    spanish = template.language == "es"
    if not state:
        return Section("Las reglas de su estado" if spanish else "Your state's rules", (
            Paragraph((Run("Todavía no ha elegido su estado: elíjalo en la sección «Su estado» "
                           "de un módulo y este documento mostrará sus reglas." if spanish else
                           "No state chosen yet: choose yours in a module's \"Your state\" "
                           "section and this document will show its rules."),)),))
    rows = state_rows(state, topics, folder)
    name = rows[0].state_name if rows else state
    heading = (f"Las reglas de {name} (en inglés)" if spanish else f"{name}: the state's rules")
    header = tuple((Run(text, bold=True),) for text in (
        ("Tema", "Lo que dice la ley", "Fuente") if spanish
        else ("Topic", "What the law says", "Source")))
    body = tuple(((Run(row.topic_title),), (Run(row_words(row)),),
                  (Run(row.citation or row.url, href=row.url or None),) if row.url else ())
                 for row in rows)
    return Section(heading, (Table(header, body),))


def fill(template: DocumentTemplate, prompts: Mapping[str, dict[str, Any]],
         answer: Callable[[str], Any], *, stem: str, district: str = "", author: str = "",
         role: str = "", state: str = "", folder: Path | None = None,
         today: date | None = None) -> Document:
    """The document this learner's answers make of `template`. Unanswered prompts are marked
    in the text and listed in `Document.missing`, never an error. A template with
    `state_topics` gains her state's rules (`state_section`)."""
    filler = Filler(template, prompts, answer)
    sections = filler.sections()
    extra = state_section(template, state, folder)
    if extra is not None:
        sections = (*sections, extra)
    slides = filler.slides()
    meta = template.meta
    return Document(
        stem=stem, language=template.language, title=meta["title"],
        subtitle=meta.get("subtitle", ""), audience=meta.get("audience", ""),
        district=clean_text(district), author=clean_text(author), role=clean_text(role),
        date=today or date.today(), current_as_of=meta["current_as_of"], sections=sections,
        sources=tuple(meta["sources"]), disclaimer=meta["disclaimer"],
        missing=tuple(filler.missing), slides=slides, deck_title=meta.get("deck_title", ""))
