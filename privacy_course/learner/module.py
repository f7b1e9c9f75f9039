"""`open_module`: the one object a module notebook talks to.

The notebook's setup cell calls `open_module("<id>")`; every later cell asks that object for a
widget (`course.scenario(...)`, `course.check(...)`, `course.prompt(...)`, `course.progress()`),
writes the work product (`course.work_product(...)`), or, in test cells, scores a saved answer
(`course.status(...)`, `course.expect(...)`). Content is read from the YAML files beside the
notebook, answers from the responses file beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

from privacy_course.authoring.content import ModuleContent, content_folder, module_content
from privacy_course.learner import checks as grading
from privacy_course.learner.responses import ResponsesStore
from privacy_course.learner.tables import AnswerTable

NOT_ANSWERED = "(not answered)"


class Module:
    """A module as the notebook sees it: its content, its saved responses and its widgets."""

    def __init__(self, module_id: str, folder: Path | str | None = None) -> None:
        self.module_id = module_id
        self.folder = Path(folder or Path.cwd()).resolve()
        self.content: ModuleContent = module_content(self.folder, module_id)
        self.store = ResponsesStore(module_id, self.folder)
        self.widgets: dict[str, Any] = {}
        self.work_product_name: str | None = None

    # -- learner widgets -------------------------------------------------------------------
    def _lookup(self, group: dict[str, dict[str, Any]], kind: str, key: str) -> dict[str, Any]:
        if key not in group:
            known = ", ".join(group) or "none"
            raise KeyError(f"{self.module_id}: no {kind} {key!r} in its YAML (known: {known})")
        return group[key]

    def scenario(self, scenario_id: str) -> Any:
        """A branching scenario from `scenarios.yaml`."""
        from privacy_course.learner.widgets import ScenarioWidget

        widget = ScenarioWidget(self._lookup(self.content.scenarios, "scenario", scenario_id),
                                self.store)
        self.widgets[scenario_id] = widget
        return widget

    def check(self, check_id: str) -> Any:
        """A knowledge check from `checks.yaml` (single or multiple choice)."""
        from privacy_course.learner.widgets import choice_check

        widget = choice_check(self._lookup(self.content.checks, "check", check_id), self.store)
        self.widgets[check_id] = widget
        return widget

    def prompt(self, prompt_id: str) -> Any:
        """A short-text, checklist or single-choice prompt from `prompts.yaml`."""
        from privacy_course.learner.widgets import text_prompt

        widget = text_prompt(self._lookup(self.content.prompts, "prompt", prompt_id), self.store)
        self.widgets[prompt_id] = widget
        return widget

    def exercise(self, exercise_id: str) -> Any:
        """A hands-on classification exercise from `exercises.yaml`."""
        from privacy_course.learner.widgets import classify_exercise

        widget = classify_exercise(
            self._lookup(self.content.exercises, "exercise", exercise_id), self.store)
        self.widgets[exercise_id] = widget
        return widget

    def _classified(self, exercise_id: str) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
        """An exercise and, per item, (item id, item text, the learner's category name)."""
        exercise = self._lookup(self.content.exercises, "exercise", exercise_id)
        saved = self.store.answer(exercise_id)
        saved = saved if isinstance(saved, dict) else {}
        names = {c["id"]: c["text"] for c in exercise["categories"]}
        return exercise, [(item["id"], item["text"],
                           names.get(saved.get(item["id"], ""), NOT_ANSWERED))
                          for item in exercise["items"]]

    def answers_table(self, *exercise_ids: str) -> AnswerTable:
        """The learner's answers as a table, one row per item: with one exercise, the item and
        its answer; with several that share their items (the same rubric applied to several
        agreements), one answer column per exercise, headed by its label up to the first
        colon. Re-run the cell after changing an answer."""
        if not exercise_ids:
            raise TypeError(f"{self.module_id}: answers_table needs at least one exercise id")
        classified = [self._classified(e) for e in exercise_ids]
        texts = [text for _, text, _ in classified[0][1]]
        for exercise_id, (_, items) in zip(exercise_ids[1:], classified[1:], strict=True):
            if [text for _, text, _ in items] != texts:
                raise ValueError(f"{self.module_id}: exercise {exercise_id!r} does not have the "
                                 f"same items as {exercise_ids[0]!r}, so they cannot share a table")
        if len(exercise_ids) == 1:
            headings = ["Your answer"]
        else:
            headings = [exercise["label"].split(":")[0] for exercise, _ in classified]
        answers = [[answer for _, _, answer in items] for _, items in classified]
        rows = [[text, *(column[i] for column in answers)] for i, text in enumerate(texts)]
        return AnswerTable("Your answers", ["Item", *headings], rows)

    def answer_counts(self, exercise_id: str) -> AnswerTable:
        """How many items the learner put in each category, every category listed (zero
        included) in the exercise's order, then the items not answered yet."""
        exercise, rows = self._classified(exercise_id)
        answers = [answer for _, _, answer in rows]
        names = [c["text"] for c in exercise["categories"]]
        if NOT_ANSWERED in answers:
            names.append(NOT_ANSWERED)
        counts = [[name, answers.count(name)] for name in names]
        return AnswerTable("Your answers, counted by category", ["Answer", "Items"],
                           counts)

    def show_answers(self, *exercise_ids: str) -> Any:
        """`answers_table` on the page, drawn again after every answer (never stale)."""
        from privacy_course.learner.widgets import LiveHTML

        self.answers_table(*exercise_ids)  # a wrong id fails here, in the author's build
        return LiveHTML(self.store, lambda: self.answers_table(*exercise_ids)._repr_html_())

    def show_answer_counts(self, exercise_id: str) -> Any:
        """`answer_counts` on the page, drawn again after every answer (never stale)."""
        from privacy_course.learner.widgets import LiveHTML

        self.answer_counts(exercise_id)
        return LiveHTML(self.store, lambda: self.answer_counts(exercise_id)._repr_html_())

    def answers_frame(self, exercise_id: str) -> Any:
        """The learner's answers to an exercise as a pandas DataFrame (item, text, answer), to
        summarise, score or chart with pandas. Loads pandas (about 0.2 s in a fresh kernel):
        to show answers, `answers_table` and `answer_counts` are lighter."""
        import pandas as pd

        _, rows = self._classified(exercise_id)
        return pd.DataFrame(rows, columns=["item", "text", "answer"])

    def release_exercise(self, students: Any) -> Any:
        """Module 6's hands-on: the de-identification decisions as controls (see
        `privacy_course.learner.release_exercise`)."""
        from privacy_course.learner.release_exercise import ReleaseExercise

        widget = ReleaseExercise(students, self.store)
        self.widgets["release-settings"] = widget
        return widget

    def release_results(self, students: Any) -> Any:
        """The two releases built from the settings saved on disk (what the graded cells
        check)."""
        from privacy_course.learner.release_exercise import saved_releases

        return saved_releases(self.module_id, students, self.folder)

    def progress(self) -> Any:
        """The progress panel: what is done and what is still missing."""
        from privacy_course.learner.widgets import ProgressPanel

        widget = ProgressPanel(self.content, self.store, self.work_product_name)
        self.widgets["progress"] = widget
        return widget

    def record(self, key: str, value: Any) -> None:
        """Save an answer as a widget would (used by the instructor version's key cell)."""
        self.store.set_answer(key, value)

    # -- the work product ------------------------------------------------------------------
    def work_product(self, template: str, output: str) -> Any:
        """The learner's work product, live: `template` (Markdown shipped with the module, with
        `{prompt-id}` placeholders) filled from the answers and written to `output` beside the
        notebook, plus an HTML copy, again after every answer. The page shows a preview and
        download links. Unanswered prompts are left as a visible reminder, never as an error."""
        from privacy_course.learner.widgets import LiveHTML

        self.work_product_name = output
        view = LiveHTML(self.store, lambda: self.write_work_product(template, output))
        for widget in self.widgets.values():
            if hasattr(widget, "work_product"):
                widget.work_product = output
                widget.refresh()
        self.widgets[f"work-product:{output}"] = view
        return view

    def write_work_product(self, template: str, output: str) -> str:
        """Write the work product's two files now; return the page's preview of it."""
        import base64

        import mistune

        text = (content_folder(self.folder) / template).read_text(encoding="utf-8")

        def fill(match: re.Match[str]) -> str:
            key = match.group(1)
            if key not in self.content.prompts:
                return match.group(0)
            value = self.store.answer(key)
            prompt = self.content.prompts[key]
            if prompt["kind"] == "checklist":
                names = {i["id"]: i["text"] for i in prompt["items"]}
                picked = [names[v] for v in value or [] if v in names]
                return "\n".join(f"- {p}" for p in picked) or "- _(nothing ticked yet)_"
            if prompt["kind"] == "choice":
                names = {i["id"]: i["text"] for i in prompt["items"]}
                return names.get(value, f"_(not chosen yet: {prompt['label']})_")
            return value.strip() if isinstance(value, str) and value.strip() else (
                f"_(not written yet: {prompt['label']})_"
            )

        filled = re.sub(r"\{([a-z0-9][a-z0-9-]*)\}", fill, text)
        md_path = self.folder / output
        md_path.write_text(filled, encoding="utf-8")
        # escape=True: a learner's answer is text, never markup. Raw HTML she typed is shown as
        # written; mistune also turns javascript:/data: links into "#harmful-link".
        html_body = mistune.create_markdown(
            escape=True, plugins=["strikethrough", "footnotes", "table"])(filled)
        html_path = md_path.with_suffix(".html")
        html_path.write_text(
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(output)}</title></head><body>{html_body}</body></html>\n",
            encoding="utf-8",
        )
        links = " and ".join(
            f"<a download='{escape(path.name)}' href='data:{kind};base64,"
            f"{base64.b64encode(path.read_bytes()).decode('ascii')}'>{label}</a>"
            for path, kind, label in ((html_path, "text/html", "Download it as a web page"),
                                      (md_path, "text/markdown", "as a text file")))
        return (f"<p><strong>Your {escape(output)}</strong> is saved as you answer (in this "
                f"module's folder). {links}.</p>"
                f"<div style='border:1px solid #ccc; padding:0.5em 1em'>{html_body}</div>")

    # -- grading (called by test cells) ------------------------------------------------------
    def status(self, key: str) -> grading.Score | None:
        """Visible half of a test cell: is an answer saved (every part, for an exercise)?"""
        exercise = self.content.exercises.get(key)
        items = len(exercise["items"]) if exercise else None
        return grading.status(self.module_id, key, self.folder, items)

    def expect(self, key: str, expected: str | Iterable[str]) -> grading.Score | None:
        """Hidden half of a test cell: is the saved choice the expected one?"""
        return grading.expect_choice(self.module_id, key, expected, self.folder)

    def expect_classification(
        self, key: str, expected: dict[str, str], points: float
    ) -> grading.Score | None:
        """Hidden half of a test cell for a classification exercise (partial credit)."""
        return grading.expect_classification(self.module_id, key, expected, points, self.folder)

    def expect_text(self, key: str, min_words: int = 1) -> grading.Score | None:
        """Hidden half of a test cell for a short-text answer."""
        return grading.expect_text(self.module_id, key, min_words, self.folder)

    def data_file(self, name: str) -> Path:
        """A data file shipped with the module (in its hidden content folder)."""
        return content_folder(self.folder) / "data" / name

    def _repr_html_(self) -> str:
        """On the page: nothing when all is well, one plain sentence when the saved answers
        could not be read."""
        if not self.store.problem:
            return ""
        return f"<p class='pc-problem' role='alert'>{escape(self.store.problem)}</p>"

    def __repr__(self) -> str:
        message = f"Module {self.module_id}: ready."
        if self.store.problem:
            message += f" Note: {self.store.problem}"
        return message


def open_module(module_id: str) -> Module:
    """Open a module from the notebook's folder. A damaged answers file is reported in plain
    words (and kept aside) by the module's repr and the progress panel, never raised."""
    return Module(module_id)
