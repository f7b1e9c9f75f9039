"""The "Your state" sections: every covered state renders in every adapting module (in a real
kernel, from the built release), an uncovered state gets the federal baseline and where to look,
a learner with no state gets a labelled drop-down that saves her choice, the cohort's default
state travels with a release, and nothing here touches grading."""

from __future__ import annotations

import html
import json
import re
import shutil
import warnings
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from privacy_course.authoring.state_data import MODULE_COPY, json_text, load_dataset
from privacy_course.authoring.states import TOPICS, StaleEntryWarning
from privacy_course.learner.profile import read_profile, save_profile
from privacy_course.learner.your_state import (
    DEFAULT_STATE_FILE,
    YourStateSection,
    current_state,
    read_default_state,
    remember_default_state,
    render_section,
    rows_as_markdown,
    state_rows,
    write_default_state,
)

from .conftest import ROOT

ADAPTING = {
    "m03-laws-together": list(TOPICS),
    "m04-governance": ["breach_notice", "roles_training"],
    "m05-vetting-providers": ["contracts", "vendor_duties", "public_posting"],
    "m07-facial-recognition": ["biometrics"],
    "m08-trust-communication": ["parent_rights", "public_posting", "breach_notice"],
}
UNCOVERED = "VT"
# What reads a learner's state: a graded cell must use none of them.
STATE_NAMES = ("your_state(", "state_rows(", "current_state(", "load_profile(", "read_profile(")


@pytest.fixture(scope="module")
def dataset():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleEntryWarning)
        return load_dataset(ROOT)


@pytest.fixture
def module_folder(tmp_path: Path) -> Path:
    """A learner's module folder holding the shipped dataset, as a fetched release does."""
    folder = tmp_path / "course" / "m07-facial-recognition"
    shutil.copytree(ROOT / "release" / "m07-facial-recognition", folder)
    return folder


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def expected(ds, code: str, topics: list[str]) -> tuple[list[str], list[str]]:
    """(texts that must appear, texts that must not) for a state on some topics."""
    profile = ds.states[code]
    present = [profile.name, "current as of December 2026"]
    absent = []
    for topic in topics:
        present.append(ds.federal[topic].summary[:60])
        for rule in profile.rules_for(topic):
            present.append(rule.citation)
            if rule.official:
                present.append(" ".join(rule.rule.split())[:60])
            else:
                present.append("Not verified yet by the course, so not stated as a rule")
                absent.append(" ".join(rule.rule.split())[:60])
        gap = profile.unverified_on(topic)
        if gap:
            present.append("Not verified yet by the course, so not stated as a rule")
    for topic in set(TOPICS) - set(topics):
        absent += [snippet for r in profile.rules_for(topic)
                   if (snippet := " ".join(r.rule.split())[:60]) not in present]
    return present, absent


def test_every_covered_state_renders_on_every_topic_set(dataset, module_folder: Path):
    for code in dataset.states:
        save_profile(module_folder.parent, state=code)
        for module_id, topics in ADAPTING.items():
            page = text_of(render_section(module_folder, topics))
            present, absent = expected(dataset, code, topics)
            for snippet in present:
                assert snippet in page, (code, module_id, snippet)
            for snippet in absent:
                assert snippet not in page, (code, module_id, snippet)


def test_a_rule_read_only_in_a_copy_is_pointed_to_never_stated(dataset, module_folder: Path):
    save_profile(module_folder.parent, state="NY")
    page = render_section(module_folder, ["breach_notice"])
    rule = dataset.states["NY"].rules_for("breach_notice")[0]
    assert rule.checked == "unofficial_copy"
    words = text_of(page)
    assert " ".join(rule.rule.split())[:60] not in words
    assert rule.deadline is None or rule.deadline not in words
    assert "Not verified yet by the course, so not stated as a rule" in words
    assert f"Read {rule.citation} in the official source" in words
    assert f'href="{rule.url}"' in page and rule.copy_url not in page
    official = next(r for r in dataset.states["NY"].rules if r.checked == "official_text")
    assert "checked in the official text" in render_section(module_folder, [official.topic])


def test_an_uncovered_state_gets_the_baseline_a_note_and_where_to_look(dataset, module_folder):
    assert UNCOVERED not in dataset.states
    save_profile(module_folder.parent, state=UNCOVERED)
    page = text_of(render_section(module_folder, ["biometrics", "breach_notice"]))
    assert "does not cover Vermont yet" in page
    assert "Student Privacy Compass" in page and "your district's counsel" in page
    assert dataset.federal["biometrics"].summary[:60] in page
    assert dataset.federal["breach_notice"].summary[:60] in page
    assert "Not legal advice" in page
    rows = state_rows(UNCOVERED, ["biometrics"], module_folder)
    assert [r.kind for r in rows] == ["federal"]
    assert rows[0].citation.startswith("34 CFR") and rows[0].url.startswith("https://")


def test_with_no_state_the_section_asks_with_a_labelled_drop_down(module_folder: Path):
    section = YourStateSection(module_folder, ["biometrics"])
    assert section.picker.description == "Your state"
    assert section.picker.value == ""
    assert ("Choose your state", "") == section.picker.options[0]
    assert ("New York", "NY") in section.picker.options and len(section.picker.options) == 52
    assert "Choose your state above" in section.body.value


def test_choosing_a_state_saves_it_and_redraws_every_section(module_folder: Path):
    peers: dict = {}
    first = YourStateSection(module_folder, ["biometrics"], peers)
    peers["a"] = first
    second = YourStateSection(module_folder, ["breach_notice"], peers)
    peers["b"] = second
    first.picker.value = "WA"
    assert read_profile(module_folder.parent).state == "WA"
    assert "Washington" in text_of(first.body.value)
    assert "Washington" in text_of(second.body.value)
    assert second.picker.value == "WA"
    assert not (module_folder / "m07-facial-recognition.responses.json").exists()


def test_the_profile_wins_over_the_cohort_default(module_folder: Path):
    assert current_state(module_folder) == ("", "")
    write_default_state(module_folder, "co")
    assert read_default_state(module_folder) == "CO"
    assert current_state(module_folder) == ("CO", "cohort")
    assert "Your facilitator set" in render_section(module_folder, ["contracts"])
    save_profile(module_folder.parent, state="TX")
    assert current_state(module_folder) == ("TX", "profile")
    write_default_state(module_folder, None)
    assert not (module_folder / DEFAULT_STATE_FILE).exists()


def test_a_cohort_default_is_kept_for_later_releases_and_checked(tmp_path: Path):
    assert remember_default_state(tmp_path, None) == ""
    assert remember_default_state(tmp_path, "ny") == "NY"
    assert remember_default_state(tmp_path, None) == "NY"
    with pytest.raises(ValueError, match="'ZZ' is not the two-letter postal code"):
        remember_default_state(tmp_path, "ZZ")


def test_state_rows_give_citations_and_urls(dataset):
    rows = state_rows("WA", ["vendor_duties", "contracts"],
                      ROOT / "release" / "m05-vetting-providers")
    kinds = [(r.topic, r.kind) for r in rows]
    assert kinds == [("vendor_duties", "rule"), ("vendor_duties", "rule"),
                     ("contracts", "unverified")]
    assert all(r.url.startswith("https://") for r in rows)
    assert rows[0].citation == "RCW 28A.604.020(1), (2), (4)"
    table = rows_as_markdown(rows)
    assert "| What vendors may not do, and must do |" in table
    assert "Not verified yet by the course." in table
    with pytest.raises(KeyError, match="unknown topic"):
        state_rows("WA", ["lunch"])


def test_dataset_text_is_escaped_on_the_page(tmp_path: Path, dataset):
    from dataclasses import replace

    rule = dataset.states["WA"].rules[0]
    hostile = replace(dataset.states["WA"], rules=(replace(rule, rule="<script>x()</script>"),))
    ds = replace(dataset, states={"WA": hostile})
    folder = tmp_path / "c" / "m"
    folder.mkdir(parents=True)
    save_profile(folder.parent, state="WA")
    page = render_section(folder, [rule.topic], ds)
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page


def test_an_unreadable_dataset_gives_a_plain_sentence(tmp_path: Path, monkeypatch):
    folder = tmp_path / "c" / "m"
    (folder / ".content").mkdir(parents=True)
    (folder / ".content" / MODULE_COPY).write_text("{not json", encoding="utf-8")
    page = render_section(folder, ["biometrics"])
    assert "could not be loaded" in page and "Traceback" not in page


def test_every_built_module_ships_the_current_dataset(dataset):
    fresh = json_text(dataset)
    for kind in ("source", "release"):
        for folder in sorted((ROOT / kind).glob("m0*")):
            shipped = folder / ".content" / MODULE_COPY
            assert shipped.read_text(encoding="utf-8") == fresh, shipped


def test_the_sections_are_in_the_adapting_modules_and_never_in_a_graded_cell():
    for module_id, topics in ADAPTING.items():
        nb = nbformat.read(ROOT / "source" / module_id / f"{module_id}.ipynb", as_version=4)
        calls = [c for c in nb.cells if c.cell_type == "code" and "course.your_state(" in c.source]
        assert calls, module_id
        named = re.findall(r'"([a-z_]+)"', " ".join(c.source for c in calls))
        assert sorted(named or TOPICS) == sorted(topics), module_id
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                for name in STATE_NAMES:
                    assert name not in cell.source, (module_id, cell.get("id"), name)


# -- a real kernel, the built release ----------------------------------------------------------
RENDER_ALL = """
import json
from pathlib import Path
from privacy_course.learner.profile import save_profile
pages = {{}}
for code in {codes!r}:
    save_profile(Path.cwd().parent, state=code)
    sections = [{calls}]
    pages[code] = [s.body.value for s in sections]
print("PAGES=" + json.dumps(pages))
"""


@pytest.mark.slow
@pytest.mark.parametrize("module_id", sorted(ADAPTING))
def test_the_sections_render_for_every_covered_state_in_a_real_kernel(module_id: str, dataset,
                                                                     tmp_path: Path):
    folder = tmp_path / "course" / module_id
    shutil.copytree(ROOT / "release" / module_id, folder)
    release = nbformat.read(folder / f"{module_id}.ipynb", as_version=4)
    setup = next(c for c in release.cells if c.get("id") == "setup")
    calls = [c.source.strip() for c in release.cells
             if c.cell_type == "code" and c.source.strip().startswith("course.your_state(")]
    codes = [*sorted(dataset.states), UNCOVERED]
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(setup.source),
        nbformat.v4.new_code_cell(RENDER_ALL.format(codes=codes, calls=", ".join(calls)))])
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    out = "".join(o.get("text", "") for o in nb.cells[1].outputs if o.output_type == "stream")
    pages = json.loads(out.split("PAGES=", 1)[1])
    for code in dataset.states:
        page = text_of(" ".join(pages[code]))
        present, _ = expected(dataset, code, ADAPTING[module_id])
        for snippet in present:
            assert snippet in page, (module_id, code, snippet)
    assert "does not cover Vermont yet" in text_of(" ".join(pages[UNCOVERED]))
    assert read_profile(folder.parent).state == UNCOVERED


@pytest.mark.slow
def test_a_released_module_carries_the_cohorts_default_state(tmp_path: Path, monkeypatch):
    from privacy_course.facilitator import cohort as cohorts

    from .conftest import copy_course
    from .exchange_helpers import fetch

    module_id = "m07-facial-recognition"
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    course = copy_course(tmp_path / "course", [module_id])
    (tmp_path / "roster.csv").write_text(
        "id,first_name,last_name,email\nalice,Alice,Adams,alice@district.example.org\n",
        encoding="utf-8")
    cohort = cohorts.create_cohort(course, "states", tmp_path / "roster.csv")
    cohorts.release(cohort, module_id, state="NY")
    cohorts.release(cohort, module_id)  # released again without --state: the default stays
    folder = fetch(course, "states", "alice", tmp_path / "alice", module_id)
    assert current_state(folder) == ("NY", "cohort")
    assert "New York" in render_section(folder, ["biometrics"])


@pytest.mark.slow
@pytest.mark.browser
def test_a_learner_names_her_state_with_the_keyboard_on_the_module_page(course_copy: Path,
                                                                      tmp_path: Path):
    """The real page (Voila, headless chromium): the drop-down is labelled and keyboard-operable,
    choosing a state draws her state's rules, saves her profile, and survives a reload."""
    from playwright.sync_api import sync_playwright

    from .browser_helpers import axe_violations, launch, serious
    from .test_start import TOKEN, lab

    module_id = "m07-facial-recognition"
    workspace = tmp_path / "learner"
    url_path = f"voila/render/privacy-course/{module_id}/{module_id}.ipynb?token={TOKEN}"
    with lab(course_copy, f"--workspace={workspace}") as base, sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page()
        page.goto(f"{base}/{url_path}")
        picker = page.get_by_label("Your state", exact=True)
        picker.wait_for(timeout=90_000)
        page.get_by_text("Choose your state above to see its rules").wait_for()
        picker.focus()
        page.keyboard.type("New York")
        # The rule shows in the section, and again in the decision memo's preview (the
        # document carries her state's rules too): look in the section.
        rule = "Public, private and charter schools may not buy or use technology"
        page.locator(".pc-ys").get_by_text(rule).first.wait_for(timeout=30_000)
        assert read_profile(workspace / "privacy-course").state == "NY"
        section = page.locator(".pc-ys")
        assert serious(axe_violations(page, [(".pc-ys", None)])) == []
        assert section.get_by_role("columnheader", name="New York").count() == 1
        page.reload()
        page.locator(".pc-ys").get_by_text(rule).first.wait_for(timeout=90_000)
        assert page.get_by_label("Your state", exact=True).input_value() == "New York"
        browser.close()


def test_release_refuses_a_state_that_is_not_a_postal_code_before_anything_runs(capsys):
    from privacy_course.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["release", "--state", "ZZ", "m07-facial-recognition"])
    assert exit_.value.code == 2
    assert "--state" in capsys.readouterr().err
