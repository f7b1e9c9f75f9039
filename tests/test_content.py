"""Content YAML: schema errors name the file and key path; scenario graphs can always finish;
no answer key can be written into the shipped YAML."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from privacy_course.authoring.content import ContentError, load_module_content

SCENARIO = {
    "id": "s1",
    "title": "A vendor asks",
    "steps": [
        {
            "id": "start",
            "situation": "A vendor asks for a roster.",
            "question": "What now?",
            "choices": [
                {"id": "a", "text": "Check the contract", "verdict": "best", "feedback": "Yes.",
                 "cite": "34 CFR 99.31(a)(1)", "next": "end"},
                {"id": "b", "text": "Send it", "verdict": "risky", "feedback": "No.",
                 "cite": "34 CFR 99.30", "next": "start"},
            ],
        }
    ],
}
CHECK = {"id": "q1", "kind": "single", "prompt": "Which?",
         "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}


def write(folder: Path, name: str, data) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_valid_content_loads(tmp_path: Path):
    write(tmp_path, "scenarios.yaml", {"scenarios": [SCENARIO]})
    write(tmp_path, "checks.yaml", {"checks": [CHECK]})
    content = load_module_content(tmp_path, "m99-test")
    assert list(content.scenarios) == ["s1"]
    assert content.checks["q1"]["kind"] == "single"


def test_error_names_file_and_key_path(tmp_path: Path):
    bad = {**CHECK, "options": [{"id": "a", "text": ""}, {"id": "b", "text": "B"}]}
    write(tmp_path, "checks.yaml", {"checks": [CHECK, bad]})
    with pytest.raises(ContentError) as err:
        load_module_content(tmp_path)
    assert "checks.yaml" in str(err.value)
    assert "checks[1].options[0].text" in str(err.value)


@pytest.mark.parametrize("field", ["answer", "correct", "key"])
def test_schema_rejects_an_answer_key_in_checks(tmp_path: Path, field: str):
    write(tmp_path, "checks.yaml", {"checks": [{**CHECK, field: "b"}]})
    with pytest.raises(ContentError, match=r"checks\[0\]"):
        load_module_content(tmp_path)


def test_next_must_name_a_step(tmp_path: Path):
    scenario = yaml.safe_load(yaml.safe_dump(SCENARIO))
    scenario["steps"][0]["choices"][1]["next"] = "nowhere"
    write(tmp_path, "scenarios.yaml", {"scenarios": [scenario]})
    with pytest.raises(ContentError, match=r"steps\[0\]\.choices\[1\]\.next: 'nowhere'"):
        load_module_content(tmp_path)


def test_scenario_that_can_never_end_is_rejected(tmp_path: Path):
    scenario = yaml.safe_load(yaml.safe_dump(SCENARIO))
    scenario["steps"][0]["choices"][0]["next"] = "start"
    write(tmp_path, "scenarios.yaml", {"scenarios": [scenario]})
    with pytest.raises(ContentError, match="can never end"):
        load_module_content(tmp_path)


def test_ids_unique_across_files(tmp_path: Path):
    write(tmp_path, "scenarios.yaml", {"scenarios": [SCENARIO]})
    write(tmp_path, "checks.yaml", {"checks": [{**CHECK, "id": "s1"}]})
    with pytest.raises(ContentError, match="s1"):
        load_module_content(tmp_path)


def test_invalid_yaml_names_file(tmp_path: Path):
    (tmp_path / "prompts.yaml").write_text("prompts: [unclosed\n")
    with pytest.raises(ContentError, match="prompts.yaml: not valid YAML"):
        load_module_content(tmp_path)


def test_checklist_needs_items_and_text_must_not_have_them(tmp_path: Path):
    write(tmp_path, "prompts.yaml", {"prompts": [{"id": "p", "kind": "checklist", "label": "L"}]})
    with pytest.raises(ContentError, match=r"prompts\[0\]"):
        load_module_content(tmp_path)
