"""The state dataset: every shipped file validates, enough states are present, and a bad file is
reported with the file and the key path at fault, so an author can find and fix each problem."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from privacy_course.authoring.content import ContentError
from privacy_course.authoring.states import TOPICS, load_state, load_states

from .conftest import ROOT

MIN_STATES = 15
DAY = "2026-12-01"
URL = "https://www.example.gov/statute"


def good_state() -> dict[str, Any]:
    """A complete, valid file: two topics with rules, the rest silent."""
    return {
        "state": "ZZ",
        "name": "Test State",
        "current_as_of": "2026-12",
        "summary": "A made-up state for the validator's tests.",
        "statutes": [{"id": "zz-privacy-act", "title": "Student Privacy Act",
                      "citation": "ZZ Code § 1", "binds": ["district", "vendor"], "url": URL,
                      "verified": DAY}],
        "rules": [
            {"id": "zz-contract", "topic": "contracts", "applies_to": ["district"],
             "rule": "Sign a written contract.", "citation": "ZZ Code § 1(a)", "url": URL,
             "verified": DAY, "status": "settled"},
            {"id": "zz-breach", "topic": "breach_notice", "applies_to": ["vendor"],
             "rule": "Tell the district.", "deadline": "within 10 days", "citation": "ZZ Code § 2",
             "url": URL, "verified": DAY, "status": "unsettled", "note": "Open; see ZZ AG op. 1."},
        ],
        "silent": [{"topic": t, "note": "Nothing found in ZZ Code.", "verified": DAY}
                   for t in TOPICS if t not in ("contracts", "breach_notice")],
    }


def write(folder: Path, data: dict[str, Any], name: str = "zz.yaml") -> Path:
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
    profiles = load_states(ROOT)
    for code, profile in profiles.items():
        assert profile.path.name == f"{code.lower()}.yaml"
        for topic in TOPICS:
            assert profile.rules_for(topic) or profile.silence_on(topic), (code, topic)


def test_at_least_fifteen_states_are_present():
    present = sorted(load_states(ROOT))
    assert len(present) >= MIN_STATES, (
        f"the state dataset (issue #23) wants at least {MIN_STATES} states and has "
        f"{len(present)}: {', '.join(present)}. This fails until every state file is written."
    )


def test_a_valid_file_gives_typed_records(tmp_path: Path):
    profile = load_state(write(tmp_path, good_state()))
    assert profile.state == "ZZ"
    assert profile.statutes[0].binds == ("district", "vendor")
    assert profile.statutes[0].verified == dt.date(2026, 12, 1)
    breach = profile.rules_for("breach_notice")[0]
    assert (breach.deadline, breach.settled) == ("within 10 days", False)
    assert profile.silence_on("biometrics") is not None
    assert profile.silence_on("contracts") is None


def test_load_states_keys_by_postal_code(tmp_path: Path):
    write(tmp_path, good_state())
    assert list(load_states(tmp_path)) == ["ZZ"]


def mutate(change) -> dict[str, Any]:
    data = copy.deepcopy(good_state())
    change(data)
    return data


BAD = {
    "missing key": (lambda d: d["rules"][1].pop("citation"), "rules[1].citation: missing"),
    "unknown topic": (lambda d: d["rules"][0].update(topic="lunch"), "rules[0].topic: 'lunch'"),
    "unknown party": (lambda d: d["rules"][0].update(applies_to=["parent"]),
                      "rules[0].applies_to[0]: 'parent'"),
    "duplicate id": (lambda d: d["rules"][1].update(id="zz-contract"),
                     "rules[1].id: duplicate id 'zz-contract'"),
    "uncovered topic": (lambda d: d["silent"].pop(0),
                        "rules, silent: topic 'public_posting' is covered by neither"),
    "bad date": (lambda d: d["rules"][0].update(verified="2026-13-01"),
                 "rules[0].verified: must be an ISO date"),
    "future date": (lambda d: d["statutes"][0].update(verified=dt.date.today().replace(
        year=dt.date.today().year + 1)), "statutes[0].verified:"),
    "http address": (lambda d: d["rules"][0].update(url="http://example.gov"),
                     "rules[0].url: must be an https:// address"),
    "unsettled without note": (lambda d: d["rules"][1].pop("note"), "rules[1].note: missing"),
    "bad status": (lambda d: d["rules"][0].update(status="likely"), "rules[0].status: 'likely'"),
    "id of another state": (lambda d: d["statutes"][0].update(id="ny-privacy-act"),
                            "statutes[0].id: 'ny-privacy-act' must start with 'zz-'"),
    "unknown key": (lambda d: d["rules"][0].update(source="x"), "rules[0].source: unknown key"),
    "state not the file name": (lambda d: d.update(state="NY"), "state: 'NY' does not match"),
    "topic both ruled and silent": (
        lambda d: d["silent"].append({"topic": "contracts", "note": "n", "verified": DAY}),
        "silent[5].topic: 'contracts' also has rules"),
    "stale current_as_of": (lambda d: d.update(current_as_of="2026-11"),
                            "current_as_of: 2026-11 is earlier"),
    "missing top-level key": (lambda d: d.pop("summary"), "summary: missing"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_file_names_the_file_and_key_path(tmp_path: Path, case: str):
    change, expected = BAD[case]
    lines = errors_of(write(tmp_path, mutate(change)))
    assert any(line.strip().startswith(f"states/zz.yaml: {expected}") for line in lines), lines


def test_every_problem_is_reported_at_once(tmp_path: Path):
    def two_faults(d: dict[str, Any]) -> None:
        d["rules"][0].pop("citation")
        d["rules"][1]["verified"] = "yesterday"

    lines = errors_of(write(tmp_path, mutate(two_faults)))
    assert len(lines) == 2, lines


def test_load_states_reports_every_bad_file(tmp_path: Path):
    write(tmp_path, mutate(lambda d: d["rules"][0].pop("url")))
    other = mutate(lambda d: d.update(state="ZY"))
    other["statutes"][0]["id"] = "zy-act"
    other["rules"][0]["id"], other["rules"][1]["id"] = "zy-a", "zy-b"
    other["rules"][1].pop("note")
    write(tmp_path, other, "zy.yaml")
    with pytest.raises(ContentError) as err:
        load_states(tmp_path)
    assert "states/zz.yaml: rules[0].url: missing" in str(err.value)
    assert "states/zy.yaml: rules[1].note: missing" in str(err.value)
