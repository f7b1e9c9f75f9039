"""The facilitator's pages (reports, certificates) rendered from Jinja2 templates.

Learners' names and flags are data on these pages: autoescaping is on for every template, so
a name such as `<script>` prints as text. The templates are package data in `templates/`
beside this file; `base.html.j2` holds the page shell and styles that every page shares.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("privacy_course.facilitator", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)


def render(template: str, **context: Any) -> str:
    """One page from `templates/<template>`, every value escaped unless marked safe."""
    return environment().get_template(template).render(**context)
