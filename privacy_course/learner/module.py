"""`open_module`: the one object a module notebook talks to.

The notebook's setup cell calls `open_module("<id>")`; every later cell asks that object for a
widget (`course.scenario(...)`, `course.check(...)`, `course.prompt(...)`, `course.progress()`),
writes the work product (`course.work_product(...)`), or, in test cells, scores a saved answer
(`course.status(...)`, `course.expect(...)`). Content is read from the YAML files beside the
notebook, answers from the responses file beside it.
"""

from __future__ import annotations

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

    def your_state(self, *topics: str) -> Any:
        """The "Your state" section: the learner's state's rules on `topics` (default: every
        topic) beside the federal baseline, with a drop-down to name her state (see
        `privacy_course.learner.your_state`). Never graded."""
        from privacy_course.learner.your_state import YourStateSection

        widget = YourStateSection(self.folder, topics, self.widgets)
        self.widgets[f"your-state:{'+'.join(topics) or 'all'}"] = widget
        return widget

    def record(self, key: str, value: Any) -> None:
        """Save an answer as a widget would (used by the instructor version's key cell)."""
        self.store.set_answer(key, value)

    # -- the work product ------------------------------------------------------------------
    def _document_templates(self, template: str, languages: tuple[str, ...]) -> dict[str, Any]:
        """The work product's template per language: `template` for the first language,
        `<name>.<code>.md` beside it for each other (e.g. parent-explainer-template.es.md)."""
        from privacy_course.authoring.content import ContentError
        from privacy_course.learner.documents import load_template

        folder = content_folder(self.folder)
        base = Path(template)
        templates = {}
        for number, code in enumerate(languages):
            name = template if number == 0 else f"{base.stem}.{code}{base.suffix}"
            loaded = load_template(folder / name)
            if loaded.language != code:
                raise ContentError(f"{self.module_id}: {name} is written in "
                                   f"{loaded.language!r}, not {code!r} ('language:')")
            templates[code] = loaded
        return templates

    def work_product(self, template: str, output: str,
                     languages: tuple[str, ...] = ("en",)) -> Any:
        """The learner's work product on the page: a preview that follows her answers, what is
        still missing, and, once she asks for it or has answered every prompt it uses, the
        files beside the notebook (`<output>.docx`, `.pdf`, `.html`; `.pptx` when the template
        has slides) with download links. `template` is Markdown with a front matter, shipped
        with the module (see privacy_course.learner.documents.template); with several
        `languages` she chooses which versions to make."""
        from privacy_course.learner.documents.files import output_stem
        from privacy_course.learner.documents.panel import DocumentPanel

        stem = output_stem(output)
        templates = self._document_templates(template, tuple(languages))
        self.work_product_name = stem
        panel = DocumentPanel(self.folder, stem, templates, self.content.prompts, self.store,
                              languages_key=f"languages:{stem}" if len(templates) > 1 else None)
        for widget in self.widgets.values():
            if hasattr(widget, "work_product"):
                widget.work_product = stem
                widget.refresh()
        self.widgets[f"work-product:{stem}"] = panel
        return panel

    def write_work_product(self, template: str, output: str,
                           languages: tuple[str, ...] = ("en",)) -> list[Path]:
        """Write the work product's files now, gaps marked (what "Create my document" does),
        in every language given; return the paths written or already current."""
        from privacy_course.learner.documents.files import (
            formats,
            language_stem,
            output_stem,
            path_of,
            write_document,
        )
        from privacy_course.learner.documents.template import fill
        from privacy_course.learner.profile import load_profile
        from privacy_course.learner.your_state import current_state

        profile = load_profile(self.folder)
        stem = output_stem(output)
        paths: list[Path] = []
        for code, loaded in self._document_templates(template, tuple(languages)).items():
            doc = fill(loaded, self.content.prompts, self.store.answer,
                       stem=language_stem(stem, code, languages[0]), district=profile.district,
                       author=profile.author, role=profile.role,
                       state=current_state(self.folder)[0], folder=self.folder)
            write_document(self.folder, doc)
            paths += [path_of(self.folder, doc, kind) for kind in formats(doc)]
        return paths

    # -- grading (called by test cells) ------------------------------------------------------
    def status(self, key: str) -> grading.Score | None:
        """Visible half of a test cell: is an answer saved (every part, for an exercise)?"""
        exercise = self.content.exercises.get(key)
        items = len(exercise["items"]) if exercise else None
        return grading.status(self.module_id, key, self.folder, items)

    def expect(self, key: str, expected: str | Iterable[str], why: str | None = None,
               source: str | None = None) -> grading.Score | None:
        """Hidden half of a test cell: is the saved choice the expected one? (`why` and
        `source` are the check's explanation, added to the hidden test by the build.)"""
        return grading.expect_choice(self.module_id, key, expected, self.folder, why, source)

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
