"""Scenarios as dilemmas: endings, facts carried forward, variants, the recorded path, the
learner's own choice order, and the validation errors an author gets (file and key path)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from privacy_course import open_module
from privacy_course.authoring.content import ContentError, load_module_content
from privacy_course.authoring.scenario_graph import branches, reachable_endings
from privacy_course.learner.order import learner_seed, shown_order
from privacy_course.learner.responses import read_responses
from privacy_course.learner.widgets import ScenarioWidget, choice_check, progress_summary

MID = "m99-test"


def _choice(cid: str, verdict: str, nxt: str, **extra) -> dict:
    return {"id": cid, "text": f"Choice {cid}", "verdict": verdict, "feedback": f"Why {cid}.",
            "cite": "34 CFR 99.31", "next": nxt, **extra}


RANSOM = {
    "id": "ransom",
    "title": "The attacker names a price",
    "steps": [
        {"id": "start", "situation": "Files are locked.", "question": "What first?",
         "choices": [_choice("plan", "best", "insurer", sets={"paid": "no"}),
                     _choice("pay", "risky", "extorted", sets={"paid": "yes"}),
                     _choice("wait", "acceptable", "insurer", sets={"paid": "later"})]},
        {"id": "insurer", "situation": "The insurer calls.", "question": "Now?",
         "variants": [{"when": {"paid": "later"},
                       "situation": "A day was lost. The insurer calls."}],
         "choices": [_choice("tell", "best", "trusted"),
                     _choice("hush", "risky", "extorted")]},
        {"id": "trusted", "ending": {"outcome": "good", "title": "Families trust the notice",
                                     "summary": "It cost a week of work and no ransom."}},
        {"id": "extorted", "ending": {
            "outcome": "poor", "title": "A second demand arrives",
            "summary": "Paying bought nothing: the data came back in a new demand.",
            "variants": [{"when": {"paid": "no"}, "summary": "Silence cost the trust."}]}},
    ],
}


def write(folder: Path, scenarios: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scenarios.yaml"
    path.write_text(yaml.safe_dump({"scenarios": scenarios}), encoding="utf-8")
    return path


@pytest.fixture
def course(tmp_path: Path, monkeypatch):
    module = tmp_path / "course" / MID
    write(module, [RANSOM])
    (module / "checks.yaml").write_text(yaml.safe_dump({"checks": [
        {"id": "q1", "kind": "single", "prompt": "Which?",
         "options": [{"id": o, "text": f"Option {o}"} for o in "abcdef"]}]}))
    monkeypatch.chdir(module)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    return module


def saved(folder: Path) -> dict:
    return read_responses(folder / f"{MID}.responses.json", MID).data["scenarios"]["ransom"]


def pick(widget: ScenarioWidget, choice_id: str) -> None:
    step = widget.current_step
    text = next(c["text"] for c in step["choices"] if c["id"] == choice_id)
    next(b for b in widget.choice_buttons if b.description == text).click()
    widget.continue_button.click()


# -- validation ---------------------------------------------------------------------------
def test_endings_and_branching_are_read_from_the_graph(tmp_path: Path):
    write(tmp_path, [RANSOM])
    scenario = load_module_content(tmp_path, MID).scenarios["ransom"]
    assert reachable_endings(scenario) == ["extorted", "trusted"]
    assert branches(scenario)


def broken(mutate) -> dict:
    scenario = copy.deepcopy(RANSOM)
    mutate(scenario)
    return scenario


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda s: s["steps"][0]["choices"][1].update(next="nowhere"),
     r"scenarios\[0\]\.steps\[0\]\.choices\[1\]\.next: 'nowhere' is neither"),
    (lambda s: s["steps"].append({"id": "orphan", "ending": {
        "outcome": "mixed", "title": "T", "summary": "S"}}),
     r"never reached from the first step: \['orphan'\]"),
    (lambda s: s["steps"][2].update(question="Why?"),
     r"scenarios\.yaml: scenarios\[0\]\.steps\[2\]"),
    (lambda s: s["steps"][2]["ending"].update(outcome="great"),
     r"scenarios\[0\]\.steps\[2\]\.ending\.outcome"),
    (lambda s: s["steps"][1]["variants"][0]["when"].update(paid="maybe"),
     r"steps\[1\]\.variants\[0\]\.when\.paid: no choice of this scenario sets 'paid' to 'maybe'"),
    (lambda s: s["steps"][3]["ending"]["variants"][0].update(situation="x"),
     r"steps\[3\]\.ending\.variants\[0\]: situation cannot vary in an ending"),
    (lambda s: s["steps"].insert(0, s["steps"].pop(2)),
     r"steps\[0\]: the first step must be a decision"),
    (lambda s: s["steps"][1]["choices"][0].update(sets={"paid": 3}),
     r"steps\[1\]\.choices\[0\]\.sets\.paid"),
])
def test_invalid_scenarios_name_file_and_key_path(tmp_path: Path, mutate, message):
    write(tmp_path, [broken(mutate)])
    with pytest.raises(ContentError, match=message):
        load_module_content(tmp_path, MID)


def test_a_dead_loop_is_rejected(tmp_path: Path):
    def loop(s):
        s["steps"][1]["choices"] = [_choice("tell", "best", "insurer"),
                                    _choice("hush", "risky", "insurer")]
        s["steps"][0]["choices"] = [_choice("plan", "best", "insurer"),
                                    _choice("pay", "risky", "extorted")]
        del s["steps"][1]["variants"]
        s["steps"][3]["ending"].pop("variants")
        s["steps"].pop(2)
    write(tmp_path, [broken(loop)])
    with pytest.raises(ContentError, match=r"can never end: \['insurer'\]"):
        load_module_content(tmp_path, MID)


# -- the widget -----------------------------------------------------------------------------
def test_a_risky_path_reaches_its_own_ending_with_what_it_cost(course: Path):
    widget = open_module(MID).scenario("ransom")
    pick(widget, "pay")
    assert widget.current_step is None and widget.restart_button is not None
    shown = widget.children[2].value
    assert "Scenario finished." in shown and "A poor outcome: A second demand arrives" in shown
    assert "Paying bought nothing" in shown
    assert "The path you took (1 decision)" in shown and "Choice pay" in shown
    assert "pc-focus-target" in widget.children[2]._dom_classes
    state = saved(course)
    assert state["finished"] is True and state["ending"] == "extorted"
    assert state["facts"] == {"paid": "yes"} and state["path"] == ["start", "extorted"]


def test_facts_change_later_text_and_endings(course: Path):
    widget = open_module(MID).scenario("ransom")
    pick(widget, "wait")
    assert "A day was lost." in widget.children[2].value  # the variant for paid=later
    pick(widget, "tell")
    assert "A good outcome: Families trust the notice" in widget.children[2].value
    widget.restart_button.click()
    pick(widget, "plan")
    assert "A day was lost." not in widget.children[2].value
    pick(widget, "hush")
    assert "Silence cost the trust." in widget.children[2].value  # ending variant
    state = saved(course)
    assert state["path"] == ["start", "insurer", "extorted"]
    assert state["history"] == [{"ending": "trusted", "path": ["start", "insurer", "trusted"]}]


def test_restart_keeps_the_scenario_finished_and_resumes_mid_play(course: Path):
    widget = open_module(MID).scenario("ransom")
    pick(widget, "plan")
    pick(widget, "tell")
    widget.restart_button.click()
    pick(widget, "wait")
    module = open_module(MID)  # a new kernel resumes the second play
    again = module.scenario("ransom")
    assert again.current_step["id"] == "insurer" and again.finished
    assert again.ending == "trusted"
    assert "A day was lost." in again.children[2].value  # facts come back with the trail
    assert progress_summary(module.content, module.store)["done"] == [
        "Scenario: The attacker names a price"]


def test_an_old_responses_file_without_an_ending_still_reads_as_finished(course: Path):
    legacy = copy.deepcopy(RANSOM)
    legacy["steps"][1]["choices"][0]["next"] = "end"  # the generic ending
    write(course, [legacy])
    (course / f"{MID}.responses.json").write_text(json.dumps({
        "format": 1, "module": MID, "answers": {}, "scenarios": {"ransom": {
            "finished": True, "trail": [{"step": "start", "choice": "plan", "continued": True},
                                        {"step": "insurer", "choice": "tell",
                                         "continued": True}]}}}))
    module = open_module(MID)
    widget = module.scenario("ransom")
    assert widget.finished and widget.current_step is None
    assert "Scenario finished." in widget.children[2].value
    assert progress_summary(module.content, module.store)["missing"] == ["Check: Which?"]


def test_choice_order_is_the_learners_own_and_stable(course: Path):
    steps = RANSOM["steps"][0]["choices"]
    orders = {tuple(c["id"] for c in shown_order(f"seed-{n}", "ransom/start", steps))
              for n in range(40)}
    assert len(orders) == 6  # every order of three choices occurs among 40 learners
    seed = learner_seed(course)
    assert seed == learner_seed(course)  # kept in the course folder
    assert (course.parent / ".privacy-course" / "seed").read_text().strip() == seed
    first = [b.description for b in open_module(MID).scenario("ransom").choice_buttons]
    again = [b.description for b in open_module(MID).scenario("ransom").choice_buttons]
    assert first == again == [c["text"] for c in shown_order(seed, "ransom/start", steps)]


def test_a_hub_user_name_seeds_the_order(course: Path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    assert learner_seed(course) == "hub:ana"


def test_check_options_are_shuffled_per_learner_and_saved_by_id(course: Path):
    module = open_module(MID)
    check = module.content.checks["q1"]
    seen = set()
    for n in range(12):
        radio = choice_check(check, module.store, seed=f"learner-{n}").controls[0]
        seen.add(tuple(value for _label, value in radio.options))
        assert sorted(value for _label, value in radio.options) == list("abcdef")
    assert len(seen) > 6
    radio = choice_check(check, module.store, seed="learner-1").controls[0]
    radio.value = "c"
    assert read_responses(course / f"{MID}.responses.json", MID).data["answers"]["q1"] == "c"
    assert choice_check(check, module.store, seed="learner-7").controls[0].value == "c"


# -- what ships ------------------------------------------------------------------------------
def test_build_strips_feedback_only_check_fields(tmp_path: Path):
    from privacy_course.authoring.build import write_learner_checks

    authored = tmp_path / "checks.yaml"
    authored.write_text(yaml.safe_dump({"checks": [{
        "id": "q1", "kind": "single", "prompt": "Which?",
        "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}],
        "explanation": "B is right because the regulation says so.",
        "source": "34 CFR 99.31(a)(1)"}]}))
    assert load_module_content(tmp_path).checks["q1"]["explanation"]  # valid when authored
    shipped = tmp_path / "out" / "checks.yaml"
    shipped.parent.mkdir()
    write_learner_checks(authored, shipped)
    text = shipped.read_text()
    assert "explanation" not in text and "B is right" not in text and "99.31" not in text
    assert load_module_content(shipped.parent).checks["q1"]["options"][1]["text"] == "B"


# -- scenario maps ----------------------------------------------------------------------------
def test_a_map_draws_every_step_ending_and_choice_with_a_text_equivalent():
    import xml.etree.ElementTree as ET

    from privacy_course.authoring.scenario_map import describe, render

    svg = ET.fromstring(render(RANSOM))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert svg.get("role") == "img"
    assert svg.find("s:title", ns).text == "Scenario map: The attacker names a price"
    words = svg.find("s:desc", ns).text
    assert words == describe(RANSOM)
    assert "2 decisions, 2 endings" in words
    assert ("pay (risky, records paid=yes) to the poor outcome \u201cA second demand "
            "arrives\u201d") in words
    assert "changes at step insurer with paid; the poor outcome" in words
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    for label in ("start", "insurer", "ENDING (good outcome)", "Families trust the notice",
                  "best: plan [paid=no]", "risky: pay [paid=yes]", "acceptable: wait [paid=later]",
                  "risky: hush", "(varies with: paid)"):
        assert label in texts, label
    dashed = [p for p in svg.iter("{http://www.w3.org/2000/svg}path")
              if p.get("stroke-dasharray")]
    assert len(dashed) == 3  # acceptable and risky arrows differ by line, not colour only


def test_maps_are_written_by_the_build_and_checked_for_staleness(tmp_path: Path):
    from privacy_course.authoring.scenario_map import stale_maps, write_maps

    module = tmp_path / "modules" / MID
    write(module, [RANSOM])
    assert stale_maps(tmp_path, MID) == [f"modules/{MID}/maps/ransom.svg (missing: run "
                                         "`privacy-course build`)"]
    assert [p.name for p in write_maps(tmp_path, MID)] == ["ransom.svg"]
    assert stale_maps(tmp_path, MID) == []
    changed = copy.deepcopy(RANSOM)
    changed["steps"][2]["ending"]["title"] = "Trust kept"
    renamed = dict(copy.deepcopy(RANSOM), id="ransom-two")
    write(module, [changed, renamed])
    assert stale_maps(tmp_path, MID) == [
        f"modules/{MID}/maps/ransom.svg (differs from the YAML)",
        f"modules/{MID}/maps/ransom-two.svg (missing: run `privacy-course build`)"]
    write(module, [renamed])
    write_maps(tmp_path, MID)
    assert sorted(p.name for p in (module / "maps").iterdir()) == ["ransom-two.svg"]


# -- the facilitator guides follow the YAML -------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]


def _modules() -> list[str]:
    from privacy_course.authoring.build import module_ids

    return module_ids(ROOT)


@pytest.mark.parametrize("module_id", _modules())
def test_each_guide_shows_every_scenario_map_and_names_every_ending(module_id: str):
    """A facilitator leads the discussion of each branch from the guide: it must show each
    scenario's map (with alt text) and name every ending a learner can reach, so that guide,
    map and YAML cannot drift apart unnoticed."""
    import re

    from privacy_course.authoring.scenario_map import stale_maps

    folder = ROOT / "modules" / module_id
    guide = " ".join((folder / "facilitator.md").read_text(encoding="utf-8").split())
    content = load_module_content(folder, module_id)
    assert stale_maps(ROOT, module_id) == [], "run `privacy-course build` to redraw the maps"
    for tree in ("source", "release"):  # the maps are for facilitators, never shipped
        assert not list((ROOT / tree / module_id).rglob("*.svg")), f"{tree}/{module_id}"
    for sid, scenario in content.scenarios.items():
        image = re.search(r"!\[([^\]]{20,})\]\(maps/" + re.escape(sid) + r"\.svg\)", guide)
        assert image, f"{module_id}/facilitator.md: no map image (with alt text) for {sid}"
        steps = {s["id"]: s for s in scenario["steps"]}
        missing = [steps[e]["ending"]["title"] for e in reachable_endings(scenario)
                   if e != "end" and " ".join(steps[e]["ending"]["title"].split()) not in guide]
        assert not missing, f"{module_id}/facilitator.md: {sid}: endings not discussed: {missing}"


def _play(widget: ScenarioWidget, prefer: tuple[str, ...]) -> list[str]:
    """Click through one play, at each step the first choice whose verdict comes first in
    `prefer`, pressing Continue after each; return the verdicts chosen."""
    chosen = []
    for _ in range(50):
        step = widget.current_step
        if step is None:
            return chosen
        made = min(step["choices"], key=lambda c: prefer.index(c["verdict"]))
        chosen.append(made["verdict"])
        next(b for b in widget.choice_buttons if b.description == made["text"]).click()
        widget.continue_button.click()
    raise AssertionError(f"{widget.scenario['id']}: no ending after 50 choices")


@pytest.mark.parametrize("module_id", _modules())
def test_every_scenario_ends_whether_played_well_or_badly(module_id: str, tmp_path: Path,
                                                          monkeypatch):
    """The click-only learner (best choices) and a learner who always takes the risky choice
    (or, where none is offered, the workable one) both reach an ending and complete the
    scenario; in a branching scenario the two reach different endings."""
    from privacy_course.authoring.scenario_graph import branches
    from privacy_course.learner.responses import ResponsesStore

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    content = load_module_content(ROOT / "modules" / module_id, module_id)
    for sid, scenario in content.scenarios.items():
        endings = {}
        for name, prefer in (("best", ("best", "acceptable", "risky")),
                             ("risky", ("risky", "acceptable", "best"))):
            store = ResponsesStore(module_id, tmp_path / name / "course" / module_id)
            widget = ScenarioWidget(scenario, store, seed=name)
            verdicts = _play(widget, prefer)
            assert widget.finished and store.scenario(sid)["ending"], (module_id, sid, name)
            assert set(verdicts) == {prefer[0]} or name == "risky", (module_id, sid, verdicts)
            endings[name] = widget.ending
        if branches(scenario):
            assert endings["best"] != endings["risky"], (module_id, sid, endings)
