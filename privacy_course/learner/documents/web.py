"""A `Document` as HTML: the print-ready page a learner downloads, and the preview on the module
page. Both come from templates/documents/document.html.j2 with autoescaping on."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from privacy_course.learner.documents.model import Document

URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:)]")
SAFE_SCHEMES = ("http://", "https://", "mailto:")


def safe_href(href: str | None) -> str:
    """A link target from the course's own template, kept only for web and mail addresses."""
    href = (href or "").strip()
    return href if href.lower().startswith(SAFE_SCHEMES) else ""


def linkify(text: str) -> Any:
    """A citation with its web addresses as links; every part of it escaped."""
    from markupsafe import Markup, escape

    out = Markup()
    position = 0
    for found in URL.finditer(text):
        out += escape(text[position:found.start()])
        out += Markup('<a href="{0}">{0}</a>').format(found.group(0))
        position = found.end()
    return out + escape(text[position:])


@lru_cache(maxsize=1)
def environment() -> Any:
    """The documents' Jinja2 environment (package templates, autoescape on)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("privacy_course.learner", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["safe_href"] = safe_href
    env.filters["linkify"] = linkify
    return env


def _template() -> Any:
    return environment().get_template("documents/document.html.j2")


def render_page(doc: Document) -> bytes:
    """The standalone page: print stylesheet, district, author and date at the top, the
    sources and the "not legal advice" notice at the foot."""
    html = _template().render(doc=doc, standalone=True, fingerprint=doc.fingerprint())
    return (html + "\n").encode("utf-8")


def render_preview(doc: Document) -> str:
    """The same document as a fragment for the module page (styles scoped to it)."""
    return str(_template().render(doc=doc, standalone=False))


FINGERPRINT = re.compile(rb'<meta name="privacy-course-document" content="([0-9a-f]+)">')


def page_fingerprint(page: bytes) -> str | None:
    """The fingerprint a written page carries, or None."""
    found = FINGERPRINT.search(page[:4096])
    return found.group(1).decode("ascii") if found else None
