"""The state dataset: every shipped file validates, every rule is cited (a section, an official
URL, a verification date, how far it was checked), old entries are flagged for re-verification,
enough states are present, the open exports round-trip, and a bad file is reported with the file
and the key path at fault, so an author can find and fix each problem."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from privacy_course.authoring import state_data
from privacy_course.authoring.content import ContentError
from privacy_course.authoring.states import (
    CHECKS,
    REVIEW_PERIOD,
    TOPICS,
    StaleEntryWarning,
    due_for_review,
    is_official,
    load_state,
    load_states,
)
from privacy_course.cli import main

from .conftest import ROOT

MIN_STATES = 15
DAY = "2026-12-01"
URL = "https://www.example.gov/statute"
COPY = "https://copies.example.com/zz-code-1"


def good_state() -> dict[str, Any]:
    """A complete, valid file: two topics with rules, the rest silent."""
    return {
        "state": "VT",
        "name": "Vermont (test copy)",
        "current_as_of": "2026-12",
        "summary": "A made-up state for the validator's tests.",
        "statutes": [{"id": "vt-privacy-act", "title": "Student Privacy Act",
                      "citation": "VT Code § 1", "binds": ["district", "vendor"], "url": URL,
                      "verified": DAY}],
        "rules": [
            {"id": "vt-contract", "topic": "contracts", "applies_to": ["district"],
             "rule": "Sign a written contract.", "citation": "VT Code § 1(a)", "url": URL,
             "verified": DAY, "status": "settled", "checked": "official_text"},
            {"id": "vt-breach", "topic": "breach_notice", "applies_to": ["vendor"],
             "rule": "Tell the district.", "deadline": "within 10 days", "citation": "VT Code § 2",
             "url": URL, "verified": DAY, "status": "unsettled", "checked": "unofficial_copy",
             "copy_url": COPY, "note": "Open; see ZZ AG op. 1."},
        ],
        "silent": [{"topic": t, "note": "Nothing found in VT Code.", "verified": DAY}
                   for t in TOPICS if t not in ("contracts", "breach_notice", "biometrics")],
        "unverified": [{"topic": "biometrics", "note": "A bill was reported; not read.",
                        "url": URL}],
    }


def write(folder: Path, data: dict[str, Any], name: str = "vt.yaml") -> Path:
    states = folder / "states"
    states.mkdir(parents=True, exist_ok=True)
    path = states / name
    # Dates written unquoted, as authors write them, so YAML reads them as dates.
    text = yaml.safe_dump(data, sort_keys=False).replace(f"'{DAY}'", DAY)
    path.write_text(text, encoding="utf-8")
    return path


def errors_of(path: Path) -> list[str]:
    with pytest.raises(ContentError) as err:
        load_state(path)
    return str(err.value).splitlines()[1:]


def test_every_shipped_state_file_validates():
    profiles = shipped()
    for code, profile in profiles.items():
        assert profile.path.name == f"{code.lower()}.yaml"
        for topic in TOPICS:
            assert (profile.rules_for(topic) or profile.silence_on(topic)
                    or profile.unverified_on(topic)), (code, topic)


def test_at_least_fifteen_states_are_present():
    present = sorted(shipped())
    assert len(present) >= MIN_STATES, (
        f"the state dataset (issue #23) wants at least {MIN_STATES} states and has "
        f"{len(present)}: {', '.join(present)}. This fails until every state file is written."
    )


def test_a_valid_file_gives_typed_records(tmp_path: Path):
    profile = load_state(write(tmp_path, good_state()))
    assert profile.state == "VT"
    assert profile.statutes[0].binds == ("district", "vendor")
    assert profile.statutes[0].verified == dt.date(2026, 12, 1)
    breach = profile.rules_for("breach_notice")[0]
    assert (breach.deadline, breach.settled) == ("within 10 days", False)
    assert (breach.checked, breach.official, breach.copy_url) == ("unofficial_copy", False, COPY)
    assert profile.silence_on("public_posting") is not None
    assert profile.silence_on("contracts") is None
    assert profile.unverified_on("biometrics").url == URL


def test_load_states_keys_by_postal_code(tmp_path: Path):
    write(tmp_path, good_state())
    assert list(load_states(tmp_path)) == ["VT"]


def mutate(change) -> dict[str, Any]:
    data = copy.deepcopy(good_state())
    change(data)
    return data


BAD = {
    "missing key": (lambda d: d["rules"][1].pop("citation"), "rules[1].citation: missing"),
    "unknown topic": (lambda d: d["rules"][0].update(topic="lunch"), "rules[0].topic: 'lunch'"),
    "unknown party": (lambda d: d["rules"][0].update(applies_to=["parent"]),
                      "rules[0].applies_to[0]: 'parent'"),
    "duplicate id": (lambda d: d["rules"][1].update(id="vt-contract"),
                     "rules[1].id: duplicate id 'vt-contract'"),
    "uncovered topic": (lambda d: d["silent"].pop(0),
                        "rules, silent, unverified: topic 'public_posting' is covered by none"),
    "bad date": (lambda d: d["rules"][0].update(verified="2026-13-01"),
                 "rules[0].verified: must be an ISO date"),
    "future date": (lambda d: d["statutes"][0].update(verified=dt.date.today().replace(
        year=dt.date.today().year + 1)), "statutes[0].verified:"),
    "http address": (lambda d: d["rules"][0].update(url="http://example.gov"),
                     "rules[0].url: must be an https:// address"),
    "unsettled without note": (lambda d: d["rules"][1].pop("note"), "rules[1].note: missing"),
    "bad status": (lambda d: d["rules"][0].update(status="likely"), "rules[0].status: 'likely'"),
    "id of another state": (lambda d: d["statutes"][0].update(id="ny-privacy-act"),
                            "statutes[0].id: 'ny-privacy-act' must start with 'vt-'"),
    "unknown key": (lambda d: d["rules"][0].update(source="x"), "rules[0].source: unknown key"),
    "state not the file name": (lambda d: d.update(state="NY"), "state: 'NY' does not match"),
    "topic both ruled and silent": (
        lambda d: d["silent"].append({"topic": "contracts", "note": "n", "verified": DAY}),
        "silent[4].topic: 'contracts' also has rules"),
    "unverified topic called silent": (
        lambda d: d["silent"].append({"topic": "biometrics", "note": "n", "verified": DAY}),
        "silent[4].topic: 'biometrics' is also unverified"),
    "unofficial url": (lambda d: d["rules"][0].update(url="https://codes.findlaw.com/zz/1"),
                       "rules[0].url: 'https://codes.findlaw.com/zz/1' is not an official source"),
    "copy without copy_url": (lambda d: d["rules"][1].pop("copy_url"),
                              "rules[1].copy_url: missing: a rule read only in an unofficial"),
    "copy_url on an official rule": (lambda d: d["rules"][0].update(copy_url=COPY),
                                     "rules[0].copy_url: only for rules checked as"),
    "unknown check": (lambda d: d["rules"][0].update(checked="a blog"),
                      "rules[0].checked: 'a blog' is not one of"),
    "missing check": (lambda d: d["rules"][0].pop("checked"), "rules[0].checked: missing"),
    "unverified without url": (lambda d: d["unverified"][0].pop("url"),
                               "unverified[0].url: missing"),
    "unverified twice": (lambda d: d["unverified"].append(dict(d["unverified"][0])),
                         "unverified[1].topic: 'biometrics' is listed in unverified twice"),
    "stale current_as_of": (lambda d: d.update(current_as_of="2026-11"),
                            "current_as_of: 2026-11 is earlier"),
    "missing top-level key": (lambda d: d.pop("summary"), "summary: missing"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_names_the_file_and_key_path(tmp_path: Path, case: str):
    change, expected = BAD[case]
    lines = errors_of(write(tmp_path, mutate(change)))
    assert any(line.strip().startswith(f"states/vt.yaml: {expected}") for line in lines), lines


def test_every_problem_is_reported_at_once(tmp_path: Path):
    def two_faults(d: dict[str, Any]) -> None:
        d["rules"][0].pop("citation")
        d["rules"][1]["verified"] = "yesterday"

    lines = errors_of(write(tmp_path, mutate(two_faults)))
    assert len(lines) == 2, lines


def test_load_states_reports_every_bad_file(tmp_path: Path):
    write(tmp_path, mutate(lambda d: d["rules"][0].pop("url")))
    other = mutate(lambda d: d.update(state="ME"))
    other["statutes"][0]["id"] = "me-act"
    other["rules"][0]["id"], other["rules"][1]["id"] = "me-a", "me-b"
    other["rules"][1].pop("note")
    write(tmp_path, other, "me.yaml")
    with pytest.raises(ContentError) as err:
        load_states(tmp_path)
    assert "states/vt.yaml: rules[0].url: missing" in str(err.value)
    assert "states/me.yaml: rules[1].note: missing" in str(err.value)


# -- citations of the shipped dataset ------------------------------------------------------------
SECTION = re.compile(r"\d")  # a pinpoint names a section number (§ 2-d, 121.10(a), 22-16-107)


def shipped() -> dict[str, Any]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleEntryWarning)
        return load_states(ROOT)


def test_every_shipped_rule_is_cited_officially_dated_and_says_how_far_it_was_checked():
    today = dt.date.today()
    for code, profile in shipped().items():
        for i, rule in enumerate(profile.rules):
            where = f"{code} rules[{i}] ({rule.id})"
            assert SECTION.search(rule.citation), f"{where}: no section in {rule.citation!r}"
            assert is_official(rule.url, code), f"{where}: {rule.url} is not official"
            assert rule.verified <= today, where
            assert rule.checked in CHECKS, where
            assert (rule.copy_url is not None) == (rule.checked == "unofficial_copy"), where
        for i, statute in enumerate(profile.statutes):
            assert SECTION.search(statute.citation), f"{code} statutes[{i}]"
            assert is_official(statute.url, code), f"{code} statutes[{i}]: {statute.url}"
        for entry in profile.unverified:
            assert is_official(entry.url, code), f"{code} unverified {entry.topic}: {entry.url}"


def test_an_entry_older_than_the_review_period_gives_a_warning_naming_it(tmp_path: Path):
    old = (dt.date.today() - REVIEW_PERIOD - dt.timedelta(days=1)).isoformat()
    write(tmp_path, mutate(lambda d: d["rules"][1].update(verified=old)))
    with pytest.warns(StaleEntryWarning, match=r"states/vt.yaml: rules\[1\] \(vt-breach\) was "
                                               rf"verified {old}"):
        load_states(tmp_path)


def test_a_fresh_entry_gives_no_warning(tmp_path: Path):
    write(tmp_path, good_state())
    with warnings.catch_warnings():
        warnings.simplefilter("error", StaleEntryWarning)
        load_states(tmp_path, today=dt.date(2026, 12, 2))


def test_every_shipped_entry_falls_due_once_the_review_period_has_passed():
    profiles = shipped()
    later = max(r.verified for p in profiles.values() for r in p.rules) + REVIEW_PERIOD \
        + dt.timedelta(days=1)
    due = due_for_review(profiles, later)
    dated = sum(len(p.statutes) + len(p.rules) + len(p.silent) for p in profiles.values())
    assert len(due) == dated
    assert due == sorted(due, key=lambda e: (e.verified, e.state, e.where))


def test_the_federal_baseline_covers_every_topic_with_official_sources():
    current, federal = state_data.load_federal(ROOT)
    assert list(federal) == list(TOPICS)
    for topic, item in federal.items():
        assert item.summary and item.sources, topic
        assert all(s.url.startswith("https://") and ".gov" in s.url for s in item.sources), topic
    assert re.fullmatch(r"\d{4}-\d{2}", current)


def test_a_federal_baseline_missing_a_topic_names_it(tmp_path: Path):
    states = tmp_path / "states"
    states.mkdir()
    data = yaml.safe_load((ROOT / "states" / "federal-baseline.yaml").read_text())
    del data["topics"]["biometrics"]
    (states / "federal-baseline.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ContentError, match=r"federal-baseline.yaml: topics.biometrics.summary"):
        state_data.load_federal(tmp_path)


# -- the open exports --------------------------------------------------------------------------
def dataset() -> state_data.Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", StaleEntryWarning)
        return state_data.load_dataset(ROOT)


def test_the_committed_exports_match_the_yaml():
    assert state_data.stale_exports(ROOT) == [], (
        "run `privacy-course states export` and commit states/export/")


def test_the_json_export_round_trips_and_fits_its_schema():
    ds = dataset()
    data = json.loads(state_data.json_text(ds))
    jsonschema.Draft202012Validator(state_data.json_schema()).validate(data)
    assert state_data.dataset_from_json(data) == ds
    assert data["license"] == "CC-BY-4.0" and "Not legal advice" in data["notice"]


def test_the_csv_export_round_trips():
    ds = dataset()
    text = state_data.csv_text(ds)
    assert state_data.dataset_from_csv(text) == ds
    assert text.splitlines()[0] == ",".join(state_data.CSV_COLUMNS)


def test_a_csv_with_an_unknown_kind_names_the_line():
    text = state_data.csv_text(dataset()).replace(",rule,", ",law,", 1)
    with pytest.raises(ContentError, match=r"CSV line \d+: kind 'law'"):
        state_data.dataset_from_csv(text)


def test_the_licence_and_changelog_ship_with_the_data():
    assert "CC BY 4.0" in (ROOT / "states" / "LICENSE.md").read_text(encoding="utf-8")
    assert f"## {dataset().version}" in (ROOT / "states" / "CHANGELOG.md").read_text("utf-8")


# -- the command --------------------------------------------------------------------------------
@pytest.fixture
def course_with_states(tmp_path: Path, monkeypatch) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy2(ROOT / "grader_config.py", course / "grader_config.py")
    shutil.copytree(ROOT / "states", course / "states")
    monkeypatch.chdir(course)
    return course


def test_states_list_show_and_due(course_with_states: Path, capsys):
    assert main(["states", "list"]) == 0
    listed = capsys.readouterr().out
    count = len(list((course_with_states / "states").glob("??.yaml")))
    assert count >= MIN_STATES
    assert "NY    New York" in listed and f"{count} states" in listed
    assert main(["states", "show", "wa"]) == 0
    shown = capsys.readouterr().out
    assert "RCW 28A.604.030(1)-(5)" in shown and "NOT VERIFIED" in shown
    assert main(["states", "due", "--on", "2099-01-01"]) == 1
    assert "re-verification was due" in capsys.readouterr().out
    assert main(["states", "due"]) in (0, 1)
    assert main(["states", "show", "VT"]) == 2
    assert "no state 'VT'" in capsys.readouterr().err


def test_states_export_writes_files_that_read_back(course_with_states: Path, tmp_path: Path,
                                                   capsys):
    assert main(["states", "export", "--out", str(tmp_path / "out")]) == 0
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == sorted([state_data.JSON_NAME, state_data.CSV_NAME, state_data.SCHEMA_NAME])
    assert state_data.read_json(tmp_path / "out" / state_data.JSON_NAME) == dataset()
    assert main(["states", "export", "--format", "csv", "--out", str(tmp_path / "x.csv")]) == 0
    assert state_data.dataset_from_csv((tmp_path / "x.csv").read_text()) == dataset()
    capsys.readouterr()
    assert main(["states", "export", "--format", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == state_data.json_schema()
