"""Bad and hostile submissions, graded in one run beside two ordinary learners.

For each kind: the run completes, the ordinary learners are graded exactly as they would be
alone, nothing outside that learner's own rows and folders changes, nothing secret leaks into
the graded notebook, and the outcome carries the expected flag."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import threading
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from privacy_course.facilitator import cohort as cohorts
from privacy_course.facilitator.completion import completion
from privacy_course.grading import autograde

from .conftest import copy_course
from .grading_helpers import submit_folder
from .learner import answer_key, run_module

pytestmark = pytest.mark.slow
MODULE = "m01-making-the-case"
NB = f"{MODULE}.ipynb"
RESPONSES = f"{MODULE}.responses.json"

LIMITS = """
# Tight limits so the hostile suite runs quickly.
c.Execute.timeout = 8
c.ExecutePreprocessor.timeout = 8
c.SandboxSettings.cpu_seconds = 30
c.SandboxSettings.memory_mb = 1536
c.SandboxSettings.file_size_mb = 16
c.SandboxSettings.processes = 64
c.SandboxSettings.output_kb = 256
c.SandboxSettings.write_quota_mb = 48
c.SandboxSettings.submission_files = 40
"""


def typed(code: str):
    """The learner types `code` into the one cell meant to stay empty."""
    def mutate(folder: Path) -> None:
        nb = nbformat.read(folder / NB, as_version=4)
        cell = next(c for c in nb.cells if c.get("id") == "answer-key")
        cell.source = code
        nbformat.write(nb, folder / NB)
    return mutate


def edit_nb(change):
    def mutate(folder: Path) -> None:
        nb = nbformat.read(folder / NB, as_version=4)
        change(nb)
        nbformat.write(nb, folder / NB)
    return mutate


def write(name: str, text: str):
    def mutate(folder: Path) -> None:
        (folder / name).write_text(text, encoding="utf-8")
    return mutate


def rename(folder: Path) -> None:
    (folder / NB).rename(folder / "my copy.ipynb")


def empty(folder: Path) -> None:
    for item in folder.iterdir():
        if item.is_dir():
            shutil.rmtree(item)
        else:
            item.unlink()


def drop_responses(folder: Path) -> None:
    (folder / RESPONSES).unlink()


def fake_scenarios(folder: Path) -> None:
    data = json.loads((folder / RESPONSES).read_text())
    for state in data["scenarios"].values():
        state["trail"] = []
        state["finished"] = True
    (folder / RESPONSES).write_text(json.dumps(data))


def wrong_answers(folder: Path) -> None:
    data = json.loads((folder / RESPONSES).read_text())
    for key in list(data["answers"]):
        if key in WRONG:
            data["answers"][key] = WRONG[key]
    (folder / RESPONSES).write_text(json.dumps(data))


def plant(links: dict[str, str], replace_notebook: bool = False):
    """Links the learner planted in her submission folder, to COURSE/COHORT paths."""
    def mutate(folder: Path) -> None:
        if replace_notebook:
            (folder / NB).unlink()
        for name, target in links.items():
            (folder / name).symlink_to(target)
    return mutate


def fifo_and_hard_link(folder: Path) -> None:
    os.mkfifo(folder / "pipe")  # reading it would hang a naive copy for ever
    os.link(folder.parents[2] / "cohort.json", folder / "roster-copy.json")


def many_files(folder: Path) -> None:
    for i in range(200):
        (folder / f"note-{i:03}.txt").write_text("x")


WRITE_FLOOD = """
import os
written = 0
for place in [".", "/tmp", "/dev/shm"]:
    for i in range(20):
        try:
            with open(os.path.join(place, f"flood-{i}.bin"), "wb") as f:
                f.write(b"0" * 15 * 1024 * 1024)
            written += 15
        except OSError as e:
            print(place, e)
            break
print("written MB:", written)
# The quota is full now: one more write fails, and this time nobody catches the error.
with open("last.bin", "wb") as f:
    f.write(b"0" * 15 * 1024 * 1024)
"""
ENV_PROBE = """
import os
for name, value in os.environ.items():
    if "SECRET" in name or "SECRET" in value or "TOKEN" in name or "DB_URL" in name:
        print("LE" + "AK:", name)
"""
MARKUP = ("<script>window.__pc=1</script><img src=x onerror=\"window.__pc=2\">"
          "[click](javascript:window.__pc=4)")
GRADER_SECRETS = {"JUPYTERHUB_API_TOKEN": "hub-SECRET-token",
                  "FACILITATOR_SECRET": "SECRET", "AWS_SECRET_ACCESS_KEY": "SECRET-key"}
WRONG: dict = {}
LEAK_PROBE = """
import os
for path in ["../../../gradebook.db", "COHORT/gradebook.db", "COURSE/grader_config.py",
             "COURSE/source", "../../bob", "COHORT/submitted/bob", "/root/.bash_history",
             "/root/.ssh", "/home", "/etc/passwd", "/etc/shadow"]:
    if os.path.exists(path):
        print("LE" + "AK:", path)
"""

# name: (mutation, expected outcome)
CASES = {
    "invalid-json": (write(NB, '{"cells": ['), {"ok": False, "problem": "not valid JSON"}),
    "nbformat-3": (write(NB, json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {},
                                         "worksheets": [{"cells": []}]})),
                   {"ok": False, "problem": "notebook format 3"}),
    "deleted-test-cell": (edit_nb(lambda nb: nb.cells.remove(
        next(c for c in nb.cells if c.get("id") == "check-no-news"))),
        {"note": "test cell check-no-news was deleted", "score": "full"}),
    "edited-test-cell": (edit_nb(lambda nb: setattr(
        next(c for c in nb.cells if c.get("id") == "check-no-news"), "source", "pass")),
        {"note": "test cell check-no-news was edited", "score": "full"}),
    "retyped-markdown": (edit_nb(lambda nb: nb.cells.__setitem__(0, nbformat.v4.new_code_cell(
        nb.cells[0].source, id=nb.cells[0].id, metadata=nb.cells[0].metadata))),
        {"note": "read-only cell header was changed from markdown to code", "score": "full"}),
    "infinite-loop": (typed("while True:\n    pass"),
                      {"note": "ran longer than the time limit", "score": "full"}),
    "memory-bomb": (typed("blocks = [bytearray(256 * 1024 * 1024) for _ in range(64)]"),
                    {"note": "memory limit", "score": "full"}),
    "fork-bomb": (typed("import os, time\nkids = 0\nwhile kids < 10000:\n"
                        "    if os.fork() == 0:\n        time.sleep(20)\n        os._exit(0)\n"
                        "    kids += 1"), {"note": "process limit", "score": "full"}),
    "huge-file": (typed("with open('big.bin', 'wb') as f:\n    for _ in range(1024):\n"
                        "        f.write(b'0' * 1024 * 1024)"),
                  {"note": "file size limit", "score": "full"}),
    "huge-output": (typed("for _ in range(100):\n    print('x' * 1024 * 1024)"),
                    {"note": "output limit", "score": "full"}),
    "os-exit": (typed("import os\nos._exit(1)"), {"ok": False, "problem": "kernel crashed"}),
    "segfault": (typed("import ctypes\nctypes.string_at(0)"),
                 {"ok": False, "problem": "kernel crashed"}),
    "read-secrets": (typed(LEAK_PROBE), {"score": "full", "no_leak": True}),
    "network": (typed("import socket\ntry:\n    socket.create_connection(('127.0.0.1', PORT), "
                      "timeout=3)\n    print('LEAK: connected')\nexcept OSError as e:\n"
                      "    print('blocked', e)"), {"score": "full", "no_leak": True}),
    "monkeypatch-grader": (lambda f: (wrong_answers(f), typed(
        "import privacy_course.learner.checks as g\ng.expect_choice = lambda *a, **k: None\n"
        "course.expect = lambda *a, **k: None")(f)),
        {"note": "scored from the saved answers", "score": "zero"}),
    "always-equal": (lambda f: (wrong_answers(f), typed(
        "class Same(str):\n    def __eq__(self, other):\n        return True\n"
        "    __hash__ = str.__hash__\n"
        "for key in list(course.store.data['answers']):\n"
        "    course.store.data['answers'][key] = Same('x')\n"
        "course.store.set_answer('x', 'x')")(f)), {"score": "zero"}),
    "fake-scenarios": (fake_scenarios, {"note": "no recorded choice reaches its end"}),
    "renamed-notebook": (rename, {"ok": False, "problem": "wrong file name"}),
    "empty-folder": (empty, {"ok": False, "problem": "no notebook in the submission"}),
    "no-responses": (drop_responses, {"note": "no saved answers file", "score": "zero"}),
    "link-to-answer-key": (plant({NB: "COURSE/source/m01-making-the-case/" + NB},
                                 replace_notebook=True),
                           {"ok": False, "problem": "no notebook", "note": "link",
                            "score": "zero"}),
    "links-beside": (lambda f: (plant({"gb.db": "COHORT/gradebook.db",
                                       "cfg.py": "COURSE/grader_config.py"})(f),
                                typed("import os\nfor p in ['gb.db', 'cfg.py']:\n"
                                      "    if os.path.exists(p):\n"
                                      "        print('LE' + 'AK:', p, open(p, 'rb').read(80))")(f)),
                     {"note": "the link was not followed", "score": "full", "no_leak": True}),
    "fifo-and-hard-link": (fifo_and_hard_link, {"note": "hard link", "score": "full"}),
    "too-many-files": (many_files, {"note": "more than 40 files", "score": "full"}),
    "write-flood": (typed(WRITE_FLOOD), {"note": "write quota", "score": "full"}),
    # Words are not events: printing what a limit would say raises no flag.
    "limit-words": (typed("print('MemoryError: File too large; [Errno 28] No space left on "
                          "device; CellTimeoutError; [output limit')"),
                    {"score": "full", "no_notes": True}),
    "environment": (typed(ENV_PROBE), {"score": "full", "no_leak": True}),
    "markup": (lambda f: (edit_nb(lambda nb: nb.cells.append(nbformat.v4.new_markdown_cell(
        MARKUP)))(f), typed(f"from IPython.display import HTML, Javascript\n"
                            f"display(HTML({MARKUP!r}))\ndisplay(Javascript('window.__pc=3'))")(f)),
        {"score": "full"}),
}


class _Live(HTMLParser):
    """Collects what would run in a browser: scripts, event handlers, javascript: links."""

    def __init__(self, marker: str) -> None:
        super().__init__()
        self.marker, self.found, self._in_script = marker, [], False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") and self.marker in value or (
                    name in ("href", "src") and value.strip().lower().startswith("javascript:")):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_data(self, data: str) -> None:
        if self._in_script and self.marker in data:
            self.found.append(f"<script>{data[:80]}")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False


def live_markup(page: str, marker: str) -> list[str]:
    parser = _Live(marker)
    parser.feed(page)
    return parser.found


def tree_hash(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        for item in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(str(item).encode())
            digest.update(item.read_bytes())
    return digest.hexdigest()


def test_hostile_submissions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    for name, value in GRADER_SECRETS.items():  # the grader's own environment carries secrets
        monkeypatch.setenv(name, value)
    course = copy_course(tmp_path / "course", [MODULE])
    config = course / "grader_config.py"
    config.write_text(config.read_text() + LIMITS)
    names = ["alice", "bob", *CASES]
    (tmp_path / "roster.csv").write_text("id,first_name,last_name,email\n" + "".join(
        f"{n},{n.title()},Learner,{n}@example.org\n" for n in names))
    cohort = cohorts.create_cohort(course, "hostile", tmp_path / "roster.csv")

    key = answer_key(course / "source" / MODULE / NB)
    checks = json.loads(json.dumps(key))
    for check_id, expected in checks.items():
        WRONG[check_id] = "a" if expected != "a" else "b"
    good = tmp_path / "good"
    shutil.copytree(course / "release" / MODULE, good)
    run_module(good / NB, answers=key)
    partial = tmp_path / "partial"
    shutil.copytree(course / "release" / MODULE, partial)
    run_module(partial / NB, answers={**key, **{k: WRONG[k] for k in list(WRONG)[:2]}})

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    threading.Thread(target=lambda: listener.accept(), daemon=True).start()
    port = listener.getsockname()[1]

    submit_folder(cohort.folder, "alice", MODULE, good)
    submit_folder(cohort.folder, "bob", MODULE, partial)
    for name, (mutate, _expect) in CASES.items():
        folder = submit_folder(cohort.folder, name, MODULE, good)
        mutate(folder)
        if name in ("network", "read-secrets"):
            nb = nbformat.read(folder / NB, as_version=4)
            cell = next(c for c in nb.cells if c.get("id") == "answer-key")
            cell.source = (cell.source.replace("PORT", str(port))
                           .replace("COHORT", str(cohort.folder)).replace("COURSE", str(course)))
            nbformat.write(nb, folder / NB)
        for link in folder.iterdir():
            if link.is_symlink():
                target = os.readlink(link).replace("COHORT", str(cohort.folder))
                link.unlink()
                link.symlink_to(target.replace("COURSE", str(course)))

    protected = [course / "source", course / "release", course / "modules", config]
    before = tree_hash(*protected[:3]) + hashlib.sha256(config.read_bytes()).hexdigest()
    outcomes = {o.learner: o for o in autograde.grade(cohort, [MODULE], workers=2,
                                                      progress=autograde._Quiet())}
    after = tree_hash(*protected[:3]) + hashlib.sha256(config.read_bytes()).hexdigest()
    listener.close()
    assert before == after, "grading changed the course folder"
    assert len(outcomes) == len(names), "every submission has an outcome"

    with cohort.gradebook() as gb:
        scores = {d["student"]: (d["score"], d["max_score"]) for d in gb.submission_dicts(MODULE)}
    full = scores["alice"][1]
    assert scores["alice"] == (full, full) and not outcomes["alice"].notes
    assert scores["bob"] == (full - 2, full) and not outcomes["bob"].notes

    failures = []
    for name, (_mutate, expect) in CASES.items():
        outcome = outcomes[name]
        said = f"{outcome.problem} | {'; '.join(outcome.notes)}"
        if outcome.ok != expect.get("ok", True):
            failures.append(f"{name}: graded={outcome.ok} ({said})")
        if "problem" in expect and expect["problem"] not in outcome.problem:
            failures.append(f"{name}: problem {outcome.problem!r}")
        if "note" in expect and expect["note"] not in " ".join(outcome.notes):
            failures.append(f"{name}: notes {said!r}")
        if expect.get("no_notes") and outcome.notes:
            failures.append(f"{name}: flagged for words alone: {said!r}")
        score = scores.get(name, (0.0, full))[0]
        if expect.get("score") == "full" and score != full:
            failures.append(f"{name}: score {score} (expected full marks) {said}")
        if expect.get("score") == "zero" and score != 0:
            failures.append(f"{name}: score {score} (expected 0) {said}")
        graded = cohort.folder / "autograded" / name / MODULE / NB
        planted = [p for p in (cohort.folder / "autograded" / name).rglob("*")
                   if p.is_symlink() or not (p.is_file() or p.is_dir())]
        if planted:
            failures.append(f"{name}: links or special files reached grading: {planted}")
        if expect.get("no_leak") and graded.exists():
            cell = next(c for c in nbformat.read(graded, as_version=4).cells
                        if c.get("id") == "answer-key")
            if "LEAK" in json.dumps(cell.get("outputs", [])):
                failures.append(f"{name}: the sandbox let something through: {cell.outputs}")
    assert not failures, "\n".join(failures)

    # The flags reach the completion table in plain words, never as a silent zero.
    # Nothing planted is lost: what was refused before grading is kept aside, untouched.
    kept = cohort.folder / "quarantine" / MODULE / "link-to-answer-key" / NB
    assert kept.is_symlink()
    assert not (cohort.folder / "autograded" / "link-to-answer-key" / MODULE / NB).exists()

    # Feedback goes to everyone who was graded, names who was not and why, and no markup a
    # learner planted survives in it (checked in a real browser in test_browser.py).
    sent = cohorts.feedback(cohort, MODULE)
    assert sent["alice"] == "" and sent["markup"] == ""
    for name in ("os-exit", "segfault", "invalid-json", "link-to-answer-key"):
        assert sent[name].startswith("it could not be graded"), (name, sent[name])
    page = next((cohort.folder / "feedback" / "markup" / MODULE).glob("*.html")).read_text()
    assert not live_markup(page, "__pc"), live_markup(page, "__pc")

    rows = {r.id: r for r in completion(cohort)}
    assert "memory limit" in " ".join(rows["memory-bomb"].results[MODULE].flags)
    assert rows["invalid-json"].results[MODULE].state == "could not be graded"
