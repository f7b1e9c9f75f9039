"""The learner-facing widgets. Each one saves every input to the module's responses store.

All of them are built from ipywidgets' standard controls (buttons, radio buttons, check boxes,
text areas), which are real form elements in the browser: reachable with Tab, operated with
Space/Enter/arrow keys, and labelled for screen readers by their description or text.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as w

from privacy_course.authoring.content import END, ModuleContent
from privacy_course.learner.responses import ResponsesStore

VERDICT_WORDS = {
    "best": "Strong choice.",
    "acceptable": "Workable, with caveats.",
    "risky": "Risky choice.",
}

# Long option texts must wrap instead of being cut off; ipywidgets draws buttons and radio labels
# on one line by default. The style sheet travels inside an HTML widget so it needs no trust.
STYLE = """<style>
.pc-box { max-width: 52em; }
.pc-box .widget-button.pc-choice, .pc-box .jupyter-button.pc-choice {
  white-space: normal; height: auto; min-height: 2.4em; text-align: left; padding: 0.4em 0.8em;
  width: 100%; line-height: 1.35; }
.pc-box .widget-radio-box label, .pc-box .widget-checkbox label, .pc-box .widget-label {
  white-space: normal; overflow: visible; line-height: 1.35; }
.pc-box .widget-html-content { line-height: 1.45; }
.pc-box .widget-radio-box label { margin: 0.25em 0; }
.pc-box .widget-checkbox { height: auto; margin: 0.2em 0; }
.pc-box textarea { min-height: 6em; }
.pc-feedback { border-left: 4px solid #5b6b7b; padding: 0.3em 0.8em; background: #f4f6f8;
  color: #1d2731; }
.pc-feedback.best { border-color: #1e6b36; }
.pc-feedback.acceptable { border-color: #8a5a00; }
.pc-feedback.risky { border-color: #a4161a; }
.pc-note { color: #1d2731; }
.pc-problem { border-left: 4px solid #a4161a; padding: 0.3em 0.8em; background: #fff4f4;
  color: #1d2731; }
.pc-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
</style>"""


def _html(text: str, css: str | None = None) -> w.HTML:
    widget = w.HTML(value=text)
    if css:
        widget.add_class(css)
    return widget


def _live(text: str = "") -> w.HTML:
    """A region whose changes screen readers announce (the page's script gives every
    `pc-live` element `aria-live="polite"`): feedback after a choice, "Answer saved."."""
    return _html(text, "pc-live")


class LiveHTML(w.HTML):
    """HTML drawn again from the responses store after every saved input, so what it shows
    (a table of answers, a work product) is never stale and never needs re-running."""

    def __init__(self, store: ResponsesStore, render: Callable[[], str]) -> None:
        super().__init__()
        self._draw = render
        store.on_change(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.value = self._draw()


def _box(children: list[w.Widget]) -> w.VBox:
    box = w.VBox([_html(STYLE), *children])
    box.add_class("pc-box")
    box.layout.width = "100%"
    return box


class ScenarioWidget(w.VBox):
    """A branching scenario: a situation, a question and one button per choice. A choice shows
    its feedback (verdict, reason, citation) and a Continue button to the step it leads to.
    Every choice is saved, and a restarted kernel resumes where the learner left off."""

    def __init__(self, scenario: dict[str, Any], store: ResponsesStore) -> None:
        super().__init__()
        self.add_class("pc-box")
        self.layout.width = "100%"
        self.scenario = scenario
        self.store = store
        self.steps = {s["id"]: s for s in scenario["steps"]}
        self.first = scenario["steps"][0]["id"]
        self.choice_buttons: list[w.Button] = []
        self.continue_button: w.Button | None = None
        self.restart_button: w.Button | None = None
        self.announce = _live()
        self._render()

    # state -------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        return self.store.scenario(self.scenario["id"])

    def _save(self, trail: list[dict[str, str]], finished: bool) -> None:
        self.store.set_scenario(self.scenario["id"], {"trail": trail, "finished": finished})

    def _position(self) -> tuple[str, dict[str, str] | None]:
        """(current step id, the choice just made there or None). A saved trail that no longer
        matches the content (the module was edited) restarts at the first step."""
        trail = [t for t in self.state.get("trail", []) if isinstance(t, dict)]
        if not trail:
            return self.first, None
        last = trail[-1]
        step = self.steps.get(last.get("step", ""))
        if step is None or last.get("choice") not in {c["id"] for c in step["choices"]}:
            return self.first, None
        if last.get("continued"):
            nxt = next(c["next"] for c in step["choices"] if c["id"] == last["choice"])
            if nxt == END:
                return END, None
            return (nxt if nxt in self.steps else self.first), None
        return last["step"], last

    @property
    def current_step(self) -> dict[str, Any] | None:
        """The step now on screen, or None once the learner is past the end."""
        step_id, _made = self._position()
        return self.steps.get(step_id)

    @property
    def finished(self) -> bool:
        return bool(self.state.get("finished"))

    # actions -----------------------------------------------------------------------------
    def choose(self, step_id: str, choice_id: str) -> None:
        trail = list(self.state.get("trail", []))
        trail.append({"step": step_id, "choice": choice_id})
        choice = next(c for c in self.steps[step_id]["choices"] if c["id"] == choice_id)
        finished = bool(self.state.get("finished")) or choice["next"] == END
        self._save(trail, finished)
        self._render(focus=True)

    def proceed(self) -> None:
        trail = list(self.state.get("trail", []))
        if trail:
            trail[-1] = {**trail[-1], "continued": True}
            self._save(trail, bool(self.state.get("finished")))
        self._render(focus=True)

    def restart(self) -> None:
        """Play again from the start; the scenario stays finished once it has been finished."""
        self._save([], bool(self.state.get("finished")))
        self._render(focus=True)

    # drawing -----------------------------------------------------------------------------
    def _render(self, focus: bool = False) -> None:
        """Draw the current step. After a click (`focus`), the page's script moves the
        keyboard focus to the feedback, or to the next step's situation, and the live region
        announces it; on first drawing nothing takes the focus."""
        step_id, made = self._position()
        title = escape(self.scenario["title"])
        heading = f"<h3 id='pc-scenario-{self.scenario['id']}'>Scenario: {title}</h3>"
        if step_id == END:
            self._render_end(heading, focus)
            return
        step = self.steps[step_id]
        situation = _html(f"<p>{escape(step['situation'])}</p><p><strong>"
                          f"{escape(step['question'])}</strong></p>")
        if focus and made is None:
            situation.add_class("pc-focus-target")
            self.announce.value = ""
        parts: list[w.Widget] = [_html(STYLE), _html(heading), situation]
        self.choice_buttons = []
        self.continue_button = None
        self.restart_button = None
        if made is None:
            for choice in step["choices"]:
                button = w.Button(description=choice["text"], tooltip=choice["text"])
                button.add_class("pc-choice")
                button.layout.width = "100%"
                button.on_click(lambda _b, c=choice["id"], s=step_id: self.choose(s, c))
                self.choice_buttons.append(button)
            parts.extend(self.choice_buttons)
        else:
            choice = next(c for c in step["choices"] if c["id"] == made["choice"])
            feedback = _html(
                f"<p><em>You chose:</em> {escape(choice['text'])}</p>"
                f"<div class='pc-feedback {choice['verdict']}'>"
                f"<p><strong>{VERDICT_WORDS[choice['verdict']]}</strong> "
                f"{escape(choice['feedback'])}</p>"
                f"<p><small>Source: {escape(choice['cite'])}</small></p></div>"
            )
            if focus:
                feedback.add_class("pc-focus-target")
                self.announce.value = (f"<p class='pc-sr'>{VERDICT_WORDS[choice['verdict']]} "
                                       f"{escape(choice['feedback'])}</p>")
            parts.append(feedback)
            label = "Finish the scenario" if choice["next"] == END else "Continue"
            self.continue_button = w.Button(description=label, button_style="primary",
                                            tooltip=label)
            self.continue_button.on_click(lambda _b: self.proceed())
            parts.append(self.continue_button)
        self.children = [*parts, self.announce]

    def _render_end(self, heading: str, focus: bool = False) -> None:
        self.choice_buttons = []
        self.continue_button = None
        self.restart_button = w.Button(description="Play this scenario again",
                                       tooltip="Play this scenario again from the start")
        self.restart_button.layout.width = "auto"
        self.restart_button.on_click(lambda _b: self.restart())
        finished = _html("<div class='pc-feedback best'><p><strong>Scenario finished."
                         "</strong> It counts toward completing this module.</p></div>")
        if focus:
            finished.add_class("pc-focus-target")
            self.announce.value = "<p class='pc-sr'>Scenario finished.</p>"
        self.children = [_html(STYLE), _html(heading), finished, self.restart_button,
                         self.announce]


def _radio(key: str, options: list[dict[str, Any]], store: ResponsesStore, label: str,
           after: Any = None) -> w.RadioButtons:
    """One labelled radio group; the chosen option id is saved under `key`."""
    ids = [o["id"] for o in options]
    saved = store.answer(key)
    radio = w.RadioButtons(
        options=[(o["text"], o["id"]) for o in options],
        value=saved if saved in ids else None,
        description=label,
        style={"description_width": "initial"},
        layout=w.Layout(width="100%"),
    )

    def on_pick(change: dict[str, Any]) -> None:
        store.set_answer(key, change["new"])
        if after is not None:
            after()

    radio.observe(on_pick, names="value")
    return radio


def _checkboxes(key: str, options: list[dict[str, Any]], store: ResponsesStore,
                after: Any = None) -> list[w.Checkbox]:
    """One labelled check box per option; the ticked option ids are saved under `key`."""
    saved = store.answer(key)
    chosen = set(saved) if isinstance(saved, list) else set()
    boxes = []
    for option in options:
        box = w.Checkbox(value=option["id"] in chosen, description=option["text"], indent=False,
                         layout=w.Layout(width="100%"))
        box.option_id = option["id"]  # type: ignore[attr-defined]
        boxes.append(box)

    def on_tick(_change: dict[str, Any]) -> None:
        store.set_answer(key, [b.option_id for b in boxes if b.value])
        if after is not None:
            after()

    for box in boxes:
        box.observe(on_tick, names="value")
    return boxes


def choice_check(check: dict[str, Any], store: ResponsesStore) -> w.VBox:
    """A knowledge check. Answers are saved but not marked here: the grader marks them."""
    prompt = _html(f"<p><strong>{escape(check['prompt'])}</strong></p>")
    note = _live()
    note.add_class("pc-note")

    def saved_note() -> None:
        note.value = "<p><small>Answer saved.</small></p>" if store.answer(check["id"]) else ""

    if check["kind"] == "single":
        controls: list[w.Widget] = [
            _radio(check["id"], check["options"], store, "Your answer", saved_note)]
    else:
        controls = _checkboxes(check["id"], check["options"], store, saved_note)
        prompt = _html(f"<p><strong>{escape(check['prompt'])}</strong></p>"
                       "<p><small>Tick every option that applies.</small></p>")
    saved_note()
    widget = _box([prompt, *controls, note])
    widget.controls = controls  # type: ignore[attr-defined]
    return widget


def text_prompt(prompt: dict[str, Any], store: ResponsesStore) -> w.VBox:
    """A short-text, checklist or single-choice prompt that feeds the learner's work product."""
    parts: list[w.Widget] = []
    if prompt.get("help"):
        parts.append(_html(f"<p><small>{escape(prompt['help'])}</small></p>"))
    if prompt["kind"] == "text":
        area = w.Textarea(
            value=store.answer(prompt["id"]) or "",
            description=prompt["label"],
            placeholder=prompt.get("placeholder", ""),
            style={"description_width": "initial"},
            layout=w.Layout(width="100%", flex_flow="column"),
        )
        area.observe(lambda ch: store.set_answer(prompt["id"], ch["new"]), names="value")
        parts.insert(0, area)
        controls: list[w.Widget] = [area]
    elif prompt["kind"] == "choice":
        radio = _radio(prompt["id"], prompt["items"], store, "Your choice")
        controls = [radio]
        parts = [_html(f"<p><strong>{escape(prompt['label'])}</strong></p>"), *parts, radio]
    else:
        controls = _checkboxes(prompt["id"], prompt["items"], store)
        parts = [_html(f"<p><strong>{escape(prompt['label'])}</strong></p>"), *parts, *controls]
    widget = _box(parts)
    widget.controls = controls  # type: ignore[attr-defined]
    return widget


def classify_exercise(exercise: dict[str, Any], store: ResponsesStore) -> w.VBox:
    """Sort items into categories: one labelled drop-down per item. Saved as {item: category}."""
    saved = store.answer(exercise["id"])
    saved = dict(saved) if isinstance(saved, dict) else {}
    categories = [("Choose...", "")] + [(c["text"], c["id"]) for c in exercise["categories"]]
    valid = {c["id"] for c in exercise["categories"]}
    parts: list[w.Widget] = [_html(f"<p><strong>{escape(exercise['label'])}</strong></p>")]
    if exercise.get("help"):
        parts.append(_html(f"<p><small>{escape(exercise['help'])}</small></p>"))
    controls: list[w.Dropdown] = []
    for number, item in enumerate(exercise["items"], start=1):
        menu = w.Dropdown(
            options=categories,
            value=saved.get(item["id"]) if saved.get(item["id"]) in valid else "",
            description=f"Item {number}",
            style={"description_width": "initial"},
            layout=w.Layout(width="auto", max_width="100%"),
        )
        menu.item_id = item["id"]  # type: ignore[attr-defined]

        def on_pick(change: dict[str, Any], item_id: str = item["id"]) -> None:
            current = store.answer(exercise["id"])
            current = dict(current) if isinstance(current, dict) else {}
            current[item_id] = change["new"]
            store.set_answer(exercise["id"], current)

        menu.observe(on_pick, names="value")
        controls.append(menu)
        parts.append(_html(f"<p><strong>{number}.</strong> {escape(item['text'])}</p>"))
        parts.append(menu)
    widget = _box(parts)
    widget.controls = controls  # type: ignore[attr-defined]
    return widget


def exercise_done(exercise: dict[str, Any], answer: Any) -> bool:
    if not isinstance(answer, dict):
        return False
    return all(answer.get(item["id"]) for item in exercise["items"])


def progress_summary(content: ModuleContent, store: ResponsesStore,
                     work_product: str | None = None) -> dict[str, list[str]]:
    """What is done and what is missing, by kind (used by the panel and by tests)."""
    done: list[str] = []
    missing: list[str] = []
    for sid, scenario in content.scenarios.items():
        finished = bool(store.scenario(sid).get("finished"))
        (done if finished else missing).append(f"Scenario: {scenario['title']}")
    for cid, check in content.checks.items():
        (done if store.answer(cid) else missing).append(f"Check: {check['prompt']}")
    for eid, exercise in content.exercises.items():
        done_it = exercise_done(exercise, store.answer(eid))
        (done if done_it else missing).append(f"Exercise: {exercise['label']}")
    for pid in content.required_prompts:
        label = content.prompts[pid]["label"]
        (done if store.answer(pid) else missing).append(f"Your input: {label}")
    if work_product is not None:
        exists = (store.path.parent / work_product).exists()
        (done if exists else missing).append(f"Work product: {work_product}")
    return {"done": done, "missing": missing}


class ProgressPanel(w.VBox):
    """What is done and what is missing in this module; redraws on every saved input."""

    def __init__(self, content: ModuleContent, store: ResponsesStore,
                 work_product: str | None = None) -> None:
        super().__init__()
        self.add_class("pc-box")
        self.content = content
        self.store = store
        self.work_product = work_product
        self.panel = w.HTML()
        self.children = [_html(STYLE), self.panel]
        store.on_change(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        summary = progress_summary(self.content, self.store, self.work_product)
        done, missing = summary["done"], summary["missing"]
        total = len(done) + len(missing)
        lines = [f"<h3>Your progress: {len(done)} of {total} done</h3>"]
        if self.store.problem:
            lines.append(f"<div class='pc-problem' role='alert'><p>{escape(self.store.problem)}"
                         "</p></div>")
        if self.store.save_error:
            lines.append(f"<div class='pc-problem' role='alert'><p>"
                         f"{escape(self.store.save_error)}</p></div>")
        if missing:
            lines.append("<p><strong>Still to do:</strong></p><ul>"
                         + "".join(f"<li>{escape(m)}</li>" for m in missing) + "</ul>")
        else:
            lines.append("<p><strong>Everything is done.</strong> Submit the module from "
                         "JupyterLab's <em>Assignments</em> panel (on the module's page, choose "
                         "<em>Open in JupyterLab</em> at the top first), then <em>Submit</em>."
                         "</p>")
        if done:
            lines.append("<details><summary>Done</summary><ul>"
                         + "".join(f"<li>{escape(d)}</li>" for d in done) + "</ul></details>")
        self.panel.value = "".join(lines)
