"""What a module's test cells call: read the recorded answers from disk and score them.

nbgrader scores a test cell 0 when its output holds an error or anything on stderr, takes a number
returned as the cell's result as partial credit, and gives full credit to a cell that returns
nothing. So each function here returns None when the answer is right, and a `Score` of 0 (with
one plain line on stdout saying why) when it is missing or wrong. Nothing raises and nothing goes
to stderr, so a learner who skipped a question sees a sentence, not a traceback.

Answers are always read afresh from the responses file, never from the kernel's memory, so
grading sees exactly what was saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from pathlib import Path

from privacy_course.learner.responses import read_responses, responses_path


class Score(float):
    """A partial score. nbgrader reads the plain-text form (a number); JupyterLab shows the
    learner the HTML form, a sentence."""

    message: str

    def __new__(cls, value: float, message: str) -> Score:
        obj = super().__new__(cls, value)
        obj.message = message
        return obj

    def __repr__(self) -> str:
        return repr(float(self))

    def _repr_html_(self) -> str:
        return f"<p class='pc-score'>{escape(self.message)}</p>"


def _answers(module_id: str, folder: Path | str | None) -> tuple[dict, str | None]:
    result = read_responses(responses_path(module_id, folder), module_id)
    return result.data["answers"], result.problem


def _missing(key: str, problem: str | None) -> Score:
    why = f" ({problem})" if problem else ""
    message = f"'{key}' has not been answered yet{why}."
    print(message)
    return Score(0.0, message)


def status(
    module_id: str, key: str, folder: Path | str | None = None, items: int | None = None
) -> Score | None:
    """The learner-visible half of a test cell: None once an answer is saved, else a 0 score.
    For an exercise of `items` parts, every part must be answered."""
    answers, problem = _answers(module_id, folder)
    given = answers.get(key)
    if given in (None, "", [], {}):
        return _missing(key, problem)
    if items is not None:
        done = sum(1 for v in given.values() if v) if isinstance(given, dict) else 0
        if done < items:
            message = f"'{key}': {done} of {items} parts answered so far."
            print(message)
            return Score(0.0, message)
    print(f"'{key}': your answer is saved.")
    return None


def expect_choice(
    module_id: str, key: str, expected: str | Iterable[str], folder: Path | str | None = None
) -> Score | None:
    """Full credit when the saved choice equals `expected` (one option id, or a set of ids for a
    multiple-choice check); 0 otherwise. Compares plain strings only, whatever the file holds."""
    answers, problem = _answers(module_id, folder)
    given = answers.get(key)
    if given in (None, "", []):
        return _missing(key, problem)
    if isinstance(expected, str):
        right = isinstance(given, str) and given == expected
    else:
        right = (
            isinstance(given, list)
            and all(isinstance(g, str) for g in given)
            and sorted(set(given)) == sorted(set(expected))
        )
    if right:
        return None
    message = f"'{key}': not the expected answer."
    print(message)
    return Score(0.0, message)


def expect_text(
    module_id: str, key: str, min_words: int = 1, folder: Path | str | None = None
) -> Score | None:
    """Full credit when a short-text answer has at least `min_words` words."""
    answers, problem = _answers(module_id, folder)
    given = answers.get(key)
    if not isinstance(given, str) or not given.strip():
        return _missing(key, problem)
    if len(given.split()) < min_words:
        message = f"'{key}': please write at least {min_words} words."
        print(message)
        return Score(0.0, message)
    return None


def expect_classification(
    module_id: str,
    key: str,
    expected: dict[str, str],
    points: float,
    folder: Path | str | None = None,
) -> Score | None:
    """Partial credit for a classification exercise: `points` times the share of items put in
    the expected category (None, i.e. full credit, when all are right)."""
    answers, problem = _answers(module_id, folder)
    given = answers.get(key)
    if not isinstance(given, dict) or not given:
        return _missing(key, problem)
    right = sum(1 for item, category in expected.items()
                if isinstance(given.get(item), str) and given.get(item) == category)
    if right == len(expected):
        return None
    message = f"'{key}': {right} of {len(expected)} items in the expected category."
    print(message)
    return Score(round(points * right / len(expected), 2), message)
