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

from privacy_course.authoring.content import ModuleContent
from privacy_course.authoring.scenario_graph import (
    choice,
    ending_reached,
    facts_of,
    first_step,
    is_ending,
    resolve,
    steps_by_id,
)
from privacy_course.learner.order import learner_seed, shown_order
from privacy_course.learner.responses import ResponsesStore

VERDICT_WORDS = {
    "best": "Strong choice.",
    "acceptable": "Workable, with caveats.",
    "risky": "Risky choice.",
}
OUTCOME_WORDS = {
    "good": "A good outcome",
    "mixed": "A mixed outcome",
    "poor": "A poor outcome",
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
.pc-feedback.good { border-color: #1e6b36; }
.pc-feedback.mixed { border-color: #8a5a00; }
.pc-feedback.poor { border-color: #a4161a; }
.pc-path summary { cursor: pointer; }
.pc-note { color: #1d2731; }
.pc-problem { border-left: 4px solid #a4161a; padding: 0.3em 0.8em; background: #fff4f4;
  color: #1d2731; }
.pc-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
</style>"""


_SHARED: dict[str, Any] = {}


def html_text(text: str = "", css: str | None = None) -> w.HTML:
    """A block of the page's text as an HTML widget, with a CSS class.

    Every such block shares one Layout and one style: ipywidgets otherwise makes two models per
    widget, and the page's front end fetches and builds every model before it draws the first
    control (m01 had 323 models, a third of them the blocks' own layouts and styles). Nothing
    changes a text block's layout or style; code that would must give it its own."""
    if "layout" not in _SHARED:
        from ipywidgets.widgets.widget_string import HTMLStyle  # not exported at the top

        _SHARED["layout"], _SHARED["style"] = w.Layout(), HTMLStyle()
    widget = w.HTML(value=text, layout=_SHARED["layout"], style=_SHARED["style"])
    if css:
        widget.add_class(css)
    return widget




def _templates() -> Any:
    """The scenario widget's HTML macros (templates/scenario.html.j2, autoescaped)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("privacy_course.learner", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("scenario.html.j2").module


class _Macros:
    """The template's macros as functions returning plain strings, loaded on first use so
    that importing the widgets stays cheap."""

    def __getattr__(self, name: str) -> Callable[..., str]:
        macro = getattr(_templates(), name)

        def render(*args: Any) -> str:
            return str(macro(*args))

        setattr(self, name, render)
        return render


_SCENARIO_HTML: Any = _Macros()


def _live(text: str = "") -> w.HTML:
    """A region whose changes screen readers announce (the page's script gives every
    `pc-live` element `aria-live="polite"`): feedback after a choice, "Answer saved."."""
    return html_text(text, "pc-live")


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
    box = w.VBox([html_text(STYLE), *children])
    box.add_class("pc-box")
    box.layout.width = "100%"
    return box


class ScenarioWidget(w.VBox):
    """A branching scenario: a situation, a question and one button per choice, in an order
    of this learner's own (`privacy_course.learner.order`). A choice shows its feedback
    (verdict, reason, citation) and a Continue button to the step it leads to; an ending says
    how things turned out, what the path cost, and which decisions led there. Every choice is
    saved, with the facts it recorded and the ending reached, and a restarted kernel resumes
    where the learner left off."""

    def __init__(self, scenario: dict[str, Any], store: ResponsesStore,
                 seed: str | None = None) -> None:
        super().__init__()
        self.add_class("pc-box")
        self.layout.width = "100%"
        self.scenario = scenario
        self.store = store
        self.seed = seed if seed is not None else learner_seed(store.path.parent)
        self.steps = steps_by_id(scenario)
        self.first = first_step(scenario)
        self.choice_buttons: list[w.Button] = []
        self.continue_button: w.Button | None = None
        self.restart_button: w.Button | None = None
        self.announce = _live()
        self._render()

    # state -------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        return self.store.scenario(self.scenario["id"])

    def _trail(self) -> list[dict[str, Any]]:
        return [t for t in self.state.get("trail", []) if isinstance(t, dict)]

    def _save(self, trail: list[dict[str, Any]], **changes: Any) -> None:
        """Save the current play's trail and the facts it recorded; `changes` update the rest
        (finished, ending, path, history), which outlive a replay."""
        state = {key: value for key, value in self.state.items()
                 if key in ("finished", "ending", "path", "history")}
        state.setdefault("finished", False)
        state.update(changes)
        state["trail"] = trail
        state["facts"] = facts_of(self.scenario, trail)
        self.store.set_scenario(self.scenario["id"], state)

    def _position(self) -> tuple[str, dict[str, str] | None]:
        """(current step or ending id, the choice just made there or None). A saved trail that
        no longer matches the content (the module was edited) restarts at the first step."""
        trail = self._trail()
        if not trail:
            return self.first, None
        last = trail[-1]
        step = self.steps.get(str(last.get("step", "")))
        made = choice(step, str(last.get("choice"))) if step is not None else None
        if made is None:
            return self.first, None
        if last.get("continued"):
            return (made["next"] if made["next"] in self.steps else self.first), None
        return last["step"], last

    @property
    def current_step(self) -> dict[str, Any] | None:
        """The decision step now on screen, or None once the learner is at an ending."""
        step = self.steps.get(self._position()[0])
        return None if step is None or is_ending(step) else step

    @property
    def ending(self) -> str | None:
        """The ending of the latest play that reached one (`end` for the generic one)."""
        return self.state.get("ending")

    @property
    def finished(self) -> bool:
        return bool(self.state.get("finished"))

    def shown_choices(self, step: dict[str, Any]) -> list[dict[str, Any]]:
        """A step's choices in this learner's order (stable across restarts)."""
        return shown_order(self.seed, f"{self.scenario['id']}/{step['id']}", step["choices"])

    # actions -----------------------------------------------------------------------------
    def choose(self, step_id: str, choice_id: str) -> None:
        trail = [*self._trail(), {"step": step_id, "choice": choice_id}]
        ending = ending_reached(self.scenario, trail)
        if ending is None:
            self._save(trail)
        else:
            path = [str(t["step"]) for t in trail] + [ending]
            self._save(trail, finished=True, ending=ending, path=path)
        self._render(focus=True)

    def proceed(self) -> None:
        trail = self._trail()
        if trail:
            trail[-1] = {**trail[-1], "continued": True}
            self._save(trail)
        self._render(focus=True)

    def restart(self) -> None:
        """Play again from the start. The scenario stays finished once it has been finished,
        and each finished play is kept (its ending and path) in `history`."""
        state = self.state
        history = list(state.get("history", []))
        if state.get("ending") and state.get("path") and ending_reached(
                self.scenario, self._trail()):
            history.append({"ending": state["ending"], "path": state["path"]})
        self._save([], history=history)
        self._render(focus=True)

    # drawing -----------------------------------------------------------------------------
    def _state_note(self, picked: dict[str, Any]) -> dict[str, Any] | None:
        """For a choice whose feedback depends on state law: her state's rows on its topic
        (rules, or what the course has not verified, saying so), or none when no state is
        chosen. Never raises: a page must render whatever the dataset holds."""
        topic = picked.get("state_topic")
        if not topic:
            return None
        from privacy_course.learner.your_state import current_state, row_words, state_rows

        folder = self.store.path.parent
        try:
            state = current_state(folder)[0]
            rows = state_rows(state, [topic], folder) if state else []
        except Exception:  # noqa: BLE001 - no dataset here: say it depends on the state
            state, rows = "", []
        return {"name": rows[0].state_name if rows else state,
                "rows": [{"words": row_words(row), "citation": row.citation, "url": row.url}
                         for row in rows]}

    def _render(self, focus: bool = False) -> None:
        """Draw the current step. After a click (`focus`), the page's script moves the
        keyboard focus to the feedback, or to the next step's situation, and the live region
        announces it; on first drawing nothing takes the focus."""
        step_id, made = self._position()
        heading = html_text(_SCENARIO_HTML.heading(self.scenario))
        facts = facts_of(self.scenario, self._trail())
        step = resolve(self.steps[step_id], facts)
        if is_ending(step):
            self._render_end(heading, step["ending"], focus)
            return
        situation = html_text(_SCENARIO_HTML.situation(step))
        if focus and made is None:
            situation.add_class("pc-focus-target")
            self.announce.value = ""
        parts: list[w.Widget] = [html_text(STYLE), heading, situation]
        self.choice_buttons = []
        self.continue_button = None
        self.restart_button = None
        if made is None:
            for option in self.shown_choices(step):
                button = w.Button(description=option["text"], tooltip=option["text"])
                button.add_class("pc-choice")
                button.layout.width = "100%"
                button.on_click(lambda _b, c=option["id"], s=step_id: self.choose(s, c))
                self.choice_buttons.append(button)
            parts.extend(self.choice_buttons)
        else:
            picked = choice(step, made["choice"]) or step["choices"][0]  # _position checked it
            feedback = html_text(_SCENARIO_HTML.feedback(picked, VERDICT_WORDS,
                                                     self._state_note(picked)))
            if focus:
                feedback.add_class("pc-focus-target")
                self.announce.value = _SCENARIO_HTML.announce_feedback(picked, VERDICT_WORDS)
            parts.append(feedback)
            ends = is_ending(self.steps.get(picked["next"], {}))
            label = "Finish the scenario" if ends else "Continue"
            self.continue_button = w.Button(description=label, button_style="primary",
                                            tooltip=label)
            self.continue_button.on_click(lambda _b: self.proceed())
            parts.append(self.continue_button)
        self.children = [*parts, self.announce]

    def _path_taken(self) -> list[dict[str, Any]]:
        """The decisions of the current play: each step's question and the choice made."""
        facts: dict[str, str] = {}
        out = []
        for entry in self._trail():
            step = self.steps.get(str(entry.get("step")), {})
            made = choice(step, str(entry.get("choice")))
            if made is None:
                continue
            out.append({"question": resolve(step, facts)["question"], "choice": made})
            facts.update(made.get("sets", {}))
        return out

    def _render_end(self, heading: w.HTML, ending: dict[str, Any], focus: bool = False) -> None:
        self.choice_buttons = []
        self.continue_button = None
        self.restart_button = w.Button(description="Play this scenario again",
                                       tooltip="Play this scenario again from the start")
        self.restart_button.layout.width = "auto"
        self.restart_button.on_click(lambda _b: self.restart())
        finished = html_text(_SCENARIO_HTML.ending(ending, OUTCOME_WORDS, self._path_taken(),
                                               VERDICT_WORDS))
        if focus:
            finished.add_class("pc-focus-target")
            self.announce.value = _SCENARIO_HTML.announce_ending(ending, OUTCOME_WORDS)
        self.children = [html_text(STYLE), heading, finished, self.restart_button, self.announce]


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
                after: Any = None, saved_order: list[str] | None = None) -> list[w.Checkbox]:
    """One labelled check box per option; the ticked option ids are saved under `key`, in
    `saved_order` (the file's order) when the boxes are shown in another."""
    saved = store.answer(key)
    chosen = set(saved) if isinstance(saved, list) else set()
    boxes = []
    for option in options:
        box = w.Checkbox(value=option["id"] in chosen, description=option["text"], indent=False,
                         layout=w.Layout(width="100%"))
        box.option_id = option["id"]  # type: ignore[attr-defined]
        boxes.append(box)

    def on_tick(_change: dict[str, Any]) -> None:
        ticked = {b.option_id for b in boxes if b.value}
        order = saved_order or [b.option_id for b in boxes]
        store.set_answer(key, [option_id for option_id in order if option_id in ticked])
        if after is not None:
            after()

    for box in boxes:
        box.observe(on_tick, names="value")
    return boxes


def choice_check(check: dict[str, Any], store: ResponsesStore,
                 seed: str | None = None) -> w.VBox:
    """A knowledge check. Answers are saved but not marked here: the grader marks them. The
    options are shown in this learner's own order (`privacy_course.learner.order`), so that
    no position points to the keyed one."""
    seed = seed if seed is not None else learner_seed(store.path.parent)
    options = shown_order(seed, check["id"], check["options"])
    prompt = html_text(f"<p><strong>{escape(check['prompt'])}</strong></p>")
    note = _live()
    note.add_class("pc-note")

    def saved_note() -> None:
        note.value = "<p><small>Answer saved.</small></p>" if store.answer(check["id"]) else ""

    if check["kind"] == "single":
        controls: list[w.Widget] = [
            _radio(check["id"], options, store, "Your answer", saved_note)]
    else:
        controls = _checkboxes(check["id"], options, store, saved_note,
                               [o["id"] for o in check["options"]])
        prompt = html_text(f"<p><strong>{escape(check['prompt'])}</strong></p>"
                       "<p><small>Tick every option that applies.</small></p>")
    saved_note()
    widget = _box([prompt, *controls, note])
    widget.controls = controls  # type: ignore[attr-defined]
    return widget


def text_prompt(prompt: dict[str, Any], store: ResponsesStore) -> w.VBox:
    """A short-text, checklist or single-choice prompt that feeds the learner's work product."""
    parts: list[w.Widget] = []
    if prompt.get("help"):
        parts.append(html_text(f"<p><small>{escape(prompt['help'])}</small></p>"))
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
        parts = [html_text(f"<p><strong>{escape(prompt['label'])}</strong></p>"), *parts, radio]
    else:
        controls = _checkboxes(prompt["id"], prompt["items"], store)
        parts = [html_text(f"<p><strong>{escape(prompt['label'])}</strong></p>"), *parts, *controls]
    widget = _box(parts)
    widget.controls = controls  # type: ignore[attr-defined]
    return widget


def classify_exercise(exercise: dict[str, Any], store: ResponsesStore) -> w.VBox:
    """Sort items into categories: one labelled drop-down per item. Saved as {item: category}."""
    saved = store.answer(exercise["id"])
    saved = dict(saved) if isinstance(saved, dict) else {}
    categories = [("Choose...", "")] + [(c["text"], c["id"]) for c in exercise["categories"]]
    valid = {c["id"] for c in exercise["categories"]}
    parts: list[w.Widget] = [html_text(f"<p><strong>{escape(exercise['label'])}</strong></p>")]
    if exercise.get("help"):
        parts.append(html_text(f"<p><small>{escape(exercise['help'])}</small></p>"))
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
        parts.append(html_text(f"<p><strong>{number}.</strong> {escape(item['text'])}</p>"))
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
        from privacy_course.learner.documents.files import document_written

        exists = document_written(store.path.parent, work_product)
        # "my-leadership-briefing" -> "your leadership briefing": the learner's words, not a file
        title = work_product.removeprefix("my-").replace("-", " ")
        (done if exists else missing).append(f"Your document: your {title}")
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
        from privacy_course.learner.handin import SubmitBox

        self.submit_box = SubmitBox(store.path.parent)
        self.children = [html_text(STYLE), self.panel, self.submit_box]
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
            lines.append("<p><strong>Everything is done.</strong> Submit the module with the "
                         "button below.</p>")
        if done:
            lines.append("<details><summary>Done</summary><ul>"
                         + "".join(f"<li>{escape(d)}</li>" for d in done) + "</ul></details>")
        self.panel.value = "".join(lines)
        self.submit_box.show(ready=not missing)
