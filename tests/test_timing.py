"""The time estimate counts what a learner reads and does, and every module fits 30-45 minutes."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_course.authoring import timing
from privacy_course.authoring.build import module_ids

NOTEBOOK = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3 (ipykernel)
  language: python
  name: python3
---

+++ {"nbgrader": {"grade_id": "header", "locked": true}}

# One two

Three four five, see [six](https://example.org/not-read).

```{code-cell} ipython3
course.check("c1")  # code is not read
```

## Seven

## Sources

1. Not counted at all. https://example.org

## Eight nine

Ten.
"""

SCENARIOS = """scenarios:
  - id: s1
    title: Alpha
    steps:
      - id: a
        situation: Beta gamma
        question: Delta?
        choices:
          - {id: x, text: Epsilon, verdict: best, feedback: Zeta eta, cite: Not counted, next: b}
          - {id: y, text: Theta, verdict: risky, feedback: Iota, cite: Not counted, next: end}
      - id: b
        situation: Kappa
        question: Lambda?
        choices:
          - {id: x, text: Mu, verdict: best, feedback: Nu, cite: Not counted, next: end}
          - {id: y, text: Xi, verdict: risky, feedback: Omicron, cite: Not counted, next: end}
"""

CHECKS = """checks:
  - id: c1
    kind: single
    prompt: Pi rho?
    options: [{id: a, text: Sigma}, {id: b, text: Tau}]
"""

PROMPTS = """prompts:
  - {id: p1, kind: text, label: Upsilon, help: Phi chi, placeholder: Psi}
  - id: p2
    kind: checklist
    label: Omega
    items: [{id: i1, text: One}, {id: i2, text: Two}]
"""

EXERCISES = """exercises:
  - id: e1
    kind: classify
    label: Sort
    categories: [{id: k1, text: Left}, {id: k2, text: Right}]
    items: [{id: a, text: Apple}, {id: b, text: Banana}, {id: c, text: Cherry}]
"""


def test_measure_counts_words_and_interactions(tmp_path: Path) -> None:
    folder = tmp_path / "modules" / "m01-tiny"
    folder.mkdir(parents=True)
    (folder / "m01-tiny.md").write_text(NOTEBOOK, encoding="utf-8")
    for name, text in (("scenarios.yaml", SCENARIOS), ("checks.yaml", CHECKS),
                       ("prompts.yaml", PROMPTS), ("exercises.yaml", EXERCISES)):
        (folder / name).write_text(text, encoding="utf-8")

    assert module_ids(tmp_path) == ["m01-tiny"]
    t = timing.measure(tmp_path, "m01-tiny")
    # Markdown: one two / three four five see six / seven / eight nine / ten = 11 words
    # (no front matter, code, link target or Sources). YAML: scenario title 1, step a 8, step b
    # 6 (no "Source:" cites); check 4; prompts 4 + 3 = 7; exercise 1 + 2 + 3 = 6. Total 43.
    assert t.words == 43
    assert (t.decisions, t.checks, t.typed_answers, t.clicked_answers, t.exercise_items) == (
        2, 1, 1, 1, 3)
    expected = (43 / timing.WORDS_PER_MINUTE + 2 * timing.MINUTES_PER_DECISION
                + timing.MINUTES_PER_CHECK + timing.MINUTES_PER_TYPED_ANSWER
                + timing.MINUTES_PER_CLICKED_ANSWER + 3 * timing.MINUTES_PER_EXERCISE_ITEM)
    assert t.total_minutes == pytest.approx(expected)
    assert not t.within_range  # a tiny module is under 30 minutes, and the table says so
    table = timing.format_table([t])
    assert "m01-tiny" in table and "UNDER 30" in table
    assert timing.main(["--root", str(tmp_path)]) == 1
    assert timing.main(["--root", str(tmp_path), "m99-missing"]) == 2


def test_count_words_reads_numbers_and_urls_as_single_words() -> None:
    # 34 / CFR / 99.37 / a / the / 2016-17 / cycle / the URL
    assert timing.count_words("34 CFR 99.37(a), the 2016-17 cycle: https://x.org/a-b-c") == 8


def test_every_module_takes_30_to_45_minutes(root: Path) -> None:
    times = [timing.measure(root, m) for m in module_ids(root)]
    outside = [t for t in times if not t.within_range]
    assert not outside, "modules outside 30-45 minutes:\n" + timing.format_table(outside)
