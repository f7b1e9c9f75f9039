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


def _label(module_id: str, key: str, folder: Path | str | None) -> str:
    """How the learner knows a question: its own words (a check's prompt, a prompt's or an
    exercise's label), quoted; the id only when the content cannot be read."""
    from privacy_course.authoring.content import module_content

    try:
        content = module_content(Path(folder or Path.cwd()), module_id)
        item = (content.checks.get(key) or content.prompts.get(key)
                or content.exercises.get(key) or {})
        text = " ".join(str(item.get("prompt") or item.get("label") or "").split())
    except Exception:  # noqa: BLE001 - a damaged content file must not stop grading
        text = ""
    if not text:
        return f"'{key}'"
    return f"\u201c{text if len(text) <= 90 else text[:87].rstrip() + '...'}\u201d"


def _missing(key: str, problem: str | None, module_id: str = "",
             folder: Path | str | None = None) -> Score:
    why = f" ({problem})" if problem else ""
    message = f"{_label(module_id, key, folder)} has not been answered yet{why}."
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
        return _missing(key, problem, module_id, folder)
    if items is not None:
        done = sum(1 for v in given.values() if v) if isinstance(given, dict) else 0
        if done < items:
            message = f"'{key}': {done} of {items} parts answered so far."
            print(message)
            return Score(0.0, message)
    print(f"'{key}': your answer is saved.")
    return None


def _check_texts(module_id: str, key: str, folder: Path | str | None
                 ) -> tuple[str, dict[str, str]]:
    """A check's question and its options' texts, from the module's content; empty when the
    content cannot be read (grading must go on whatever the folder holds)."""
    from privacy_course.authoring.content import module_content

    try:
        check = module_content(Path(folder or Path.cwd()), module_id).checks[key]
        return (" ".join(str(check["prompt"]).split()),
                {str(o["id"]): " ".join(str(o["text"]).split()) for o in check["options"]})
    except Exception:  # noqa: BLE001 - a damaged content file must not stop grading
        return "", {}


def teaching_note(module_id: str, key: str, right: bool, given: object,
                  expected: str | Iterable[str], folder: Path | str | None,
                  why: str | None = None, source: str | None = None) -> str:
    """What the learner's feedback says about one knowledge check: right or not, the answer
    she gave, the right answer, why, and the source. Shown only after grading: the right
    answer and `why` come from the hidden test, which never ships to learners."""
    prompt, options = _check_texts(module_id, key, folder)

    def named(ids: object) -> str:
        picked = [ids] if isinstance(ids, str) else list(ids) if isinstance(ids, Iterable) else []
        return "; ".join(f"\u201c{options.get(str(i), str(i))}\u201d" for i in picked) or "none"

    lines = [f"{'Right' if right else 'Not right'}: {prompt or key}"]
    if not right:
        lines.append(f"Your answer: {named(given)}")
    lines.append(f"The right answer: {named(expected)}")
    if why:
        lines.append(f"Why: {why}")
    if source:
        lines.append(f"Source: {source}")
    return "\n".join(lines)


def expect_choice(
    module_id: str, key: str, expected: str | Iterable[str], folder: Path | str | None = None,
    why: str | None = None, source: str | None = None,
) -> Score | None:
    """Full credit when the saved choice equals `expected` (one option id, or a set of ids for a
    multiple-choice check); 0 otherwise. Compares plain strings only, whatever the file holds.
    With `why` and `source` (added by the build from checks.yaml), the graded output teaches:
    the right answer and why (`teaching_note`)."""
    answers, problem = _answers(module_id, folder)
    given = answers.get(key)
    if given in (None, "", []):
        score = _missing(key, problem, module_id, folder)
        print(teaching_note(module_id, key, False, [], expected, folder, why, source))
        return score
    if isinstance(expected, str):
        right = isinstance(given, str) and given == expected
    else:
        right = (
            isinstance(given, list)
            and all(isinstance(g, str) for g in given)
            and sorted(set(given)) == sorted(set(expected))
        )
    print(teaching_note(module_id, key, right, given, expected, folder, why, source))
    if right:
        return None
    return Score(0.0, "Not the right answer; the feedback above says why.")


def expect_text(
    module_id: str, key: str, min_words: int = 1, folder: Path | str | None = None
) -> Score | None:
    """Full credit when a short-text answer has at least `min_words` words."""
    answers, problem = _answers(module_id, folder)
    given = answers.get(key)
    if not isinstance(given, str) or not given.strip():
        return _missing(key, problem, module_id, folder)
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
        return _missing(key, problem, module_id, folder)
    right = sum(1 for item, category in expected.items()
                if isinstance(given.get(item), str) and given.get(item) == category)
    if right == len(expected):
        return None
    message = f"'{key}': {right} of {len(expected)} items in the expected category."
    print(message)
    return Score(round(points * right / len(expected), 2), message)
