"""Feedback reaches its own learner only: two learners sharing one computer account (README's
one-machine mode, `privacy-course start --cohort NAME --learner ID`) and two learners on two
computer accounts, each through the real exchange, grading and feedback steps.

One learner must never receive the other's feedback page, score or briefing. nbgrader keeps one
cache of submitted copies per computer account, and its fetch-feedback step hands back the
feedback of every submission in that cache; the last test shows that this is what happens
without the course's own step, so the others prove something."""

from __future__ import annotations

import os
import pwd
import shutil
import site
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from privacy_course.config import load_config
from privacy_course.facilitator import cohort as cohorts
from privacy_course.grading import autograde
from privacy_course.start import exchange_config, exchange_step, prepare_workspace

from .conftest import copy_course
from .learner import answer_key, run_module

MODULE = "m01-making-the-case"
NOTEBOOK = f"{MODULE}.ipynb"
# What each learner types into her leadership briefing: words no other file holds.
BRIEFING = {"alice": "Our district names a privacy lead by March, says Alice Quillon.",
            "bea": "Our board hears a privacy report every term, says Bea Marrow."}


def roster(tmp_path: Path, *learners: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("id,first_name,last_name,email\n" + "".join(
        f"{n},{n.title()},Tester,{n}@district.example.org\n" for n in learners), encoding="utf-8")
    return path


def answers(course: Path, right: bool) -> dict:
    """The key, or the key with three checks wrong (below the pass mark)."""
    key = answer_key(course / "source" / MODULE / NOTEBOOK)
    if right:
        return key
    wrong = dict(key)
    for check_id in [c for c, v in key.items() if isinstance(v, str)][:3]:
        wrong[check_id] = "a" if key[check_id] != "a" else "b"
    return wrong


def grade_and_return(cohort: cohorts.Cohort) -> dict[str, tuple[float, float]]:
    """Collect, grade and return feedback as the facilitator; {learner: (score, max)}."""
    cohorts.collect(cohort, MODULE)
    assert all(o.ok for o in autograde.grade(cohort, [MODULE], workers=2,
                                             progress=autograde._Quiet()))
    assert set(cohorts.feedback(cohort, MODULE).values()) == {""}
    with cohort.gradebook() as gb:
        return {d["student"]: (d["score"], d["max_score"]) for d in gb.submission_dicts(MODULE)}


def learner_server_config(workspace: Path) -> Config:
    """What the learner's own Jupyter server uses: the nbgrader configuration `start` wrote
    into her folder, with her folder as the place assignments live (the server's root)."""
    config = PyFileConfigLoader("nbgrader_config.py",
                                path=str(workspace / ".jupyter")).load_config()
    config.Exchange.assignment_dir = str(workspace)
    return config


def feedback_pages(workspace: Path, cohort: str) -> list[Path]:
    return sorted((workspace / cohort / MODULE / "feedback").rglob("*.html"))


def assert_only_her_own(cohort: cohorts.Cohort, workspace: Path, learner: str, other: str,
                        scores: dict[str, tuple[float, float]], mine: str, theirs: str) -> None:
    """Her folder holds one feedback page, the one written for her (her score), and nothing
    anywhere in it holds the other learner's feedback or briefing (her own briefing is there:
    the search finds what it looks for)."""
    pages = feedback_pages(workspace, cohort.name)
    assert len(pages) == 1, pages
    written = {name: (cohort.path("feedback", name, MODULE) / f"{MODULE}.html").read_bytes()
               for name in (learner, other)}
    assert pages[0].read_bytes() == written[learner] != written[other]
    score, max_score = scores[learner]
    assert f"Score: {score} / {max_score}" in pages[0].read_text(encoding="utf-8")
    files = [path.read_bytes() for path in workspace.rglob("*") if path.is_file()]
    assert any(mine.encode() in data for data in files)
    assert not any(data == written[other] or theirs.encode() in data for data in files)


@pytest.mark.slow
def test_two_learners_on_one_account_each_get_only_their_own_feedback(
        tmp_path: Path, monkeypatch):
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "account-data"))  # the one account
    course = copy_course(tmp_path / "course", [MODULE])
    cohort = cohorts.create_cohort(course, "spring", roster(tmp_path, "alice", "bea"))
    cohorts.release(cohort, MODULE)
    config = load_config(course)
    workspaces = {}
    for learner, right in (("alice", True), ("bea", False)):
        # What `privacy-course start --cohort spring --learner <id>` prepares, on one account.
        workspace, _env = prepare_workspace(course, None, "spring", learner, config)
        assert workspace == (course / "learner" / learner).resolve()
        run_module(workspace / "spring" / MODULE / NOTEBOOK, answers=answers(course, right),
                   text=BRIEFING[learner])
        exchange_step("Submit", learner_server_config(workspace), MODULE).start()
        workspaces[learner] = workspace
    caches = {learner: Path(learner_server_config(w).Exchange.cache)
              for learner, w in workspaces.items()}
    assert caches["alice"] != caches["bea"]
    assert [p.name.split("+")[0] for p in (caches["alice"] / "spring").iterdir()] == ["alice"]

    scores = grade_and_return(cohort)
    assert scores["alice"][0] == scores["alice"][1] > scores["bea"][0]

    for learner, other in (("alice", "bea"), ("bea", "alice")):
        exchange_step("FetchFeedback", learner_server_config(workspaces[learner]),
                      MODULE).start()
        assert_only_her_own(cohort, workspaces[learner], learner, other, scores,
                            BRIEFING[learner], BRIEFING[other])
    assert not feedback_pages(course / "learner", "spring")  # nothing in a shared folder

    # Purging the cohort removes both learners' folders and caches on this machine.
    removed = cohorts.purge(cohort)
    assert not any(w.exists() for w in workspaces.values())
    assert not any((c / "spring").exists() for c in caches.values())
    assert removed["remaining"] == []


@pytest.mark.slow
def test_own_feedback_holds_even_with_one_shared_cache(tmp_path: Path, monkeypatch):
    """A cache shared by every learner of the account (as before per-learner caches, or set by
    hand): the course's fetch step still hands each learner her own feedback only, where
    nbgrader's stock step hands out everyone's."""
    from nbgrader.exchange.default.fetch_feedback import ExchangeFetchFeedback

    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    course = copy_course(tmp_path / "course", [MODULE])
    cohort = cohorts.create_cohort(course, "shared", roster(tmp_path, "alice", "bea"))
    cohorts.release(cohort, MODULE)
    course_config = load_config(course)
    shared = tmp_path / "one-cache-for-all"

    def step_config(learner: str) -> Config:
        config = exchange_config(course_config, "shared", learner)
        config.Exchange.cache = str(shared)
        config.Exchange.assignment_dir = str(tmp_path / learner)
        return config

    for learner, right in (("alice", True), ("bea", False)):
        exchange_step("FetchAssignment", step_config(learner), MODULE).start()
        run_module(tmp_path / learner / "shared" / MODULE / NOTEBOOK,
                   answers=answers(course, right), text=BRIEFING[learner])
        exchange_step("Submit", step_config(learner), MODULE).start()
    scores = grade_and_return(cohort)

    exchange_step("FetchFeedback", step_config("alice"), MODULE).start()
    assert_only_her_own(cohort, tmp_path / "alice", "alice", "bea", scores, BRIEFING["alice"],
                        BRIEFING["bea"])

    config = step_config("bea")
    config.ExchangeFactory.fetch_feedback = ExchangeFetchFeedback  # nbgrader's own step
    stock = tmp_path / "bea-with-stock-step"
    config.Exchange.assignment_dir = str(stock)
    exchange_step("FetchFeedback", config, MODULE).start()
    assert len(feedback_pages(stock, "shared")) == 2  # everyone's: what the course prevents


# --- two computer accounts ------------------------------------------------------------------

SYSTEM_PYTHON = "/usr/bin/python3.11"  # a Python every account can run (this one may not be)
LEARNER_STEP = """\
import json, os, sys
from traitlets.config import Config
from privacy_course.start import exchange_config, exchange_step

kind, exchange, cohort, module, folder = sys.argv[1:6]
course = Config()
course.CourseDirectory.course_id = cohort
course.Exchange.root = exchange
course.Exchange.path_includes_course = True
config = exchange_config(course, cohort)  # no --learner: the account's own name
config.Exchange.assignment_dir = folder
exchange_step(kind, config, module).start()
try:
    listed = os.listdir(os.path.join(exchange, cohort, "feedback"))
except OSError as exc:
    listed = exc.__class__.__name__
print(json.dumps({"feedback_folder": listed}))
"""


@pytest.fixture
def accounts() -> Iterator[dict[str, Path]]:
    """Two learner accounts with home folders, made for the test and removed after it."""
    if os.geteuid() != 0 or not Path(SYSTEM_PYTHON).exists():
        pytest.fail("the two-account test needs root (to create users) and /usr/bin/python3.11")
    made = []
    homes = {}
    try:
        for name in ("pcfbann", "pcfbben"):
            if subprocess.run(["id", name], capture_output=True).returncode != 0:
                subprocess.run(["useradd", "-m", "-K", "HOME_MODE=0700", "-s", "/bin/bash",
                                name], check=True, capture_output=True)
                made.append(name)
            homes[name] = Path(pwd.getpwnam(name).pw_dir)
        yield homes
    finally:
        for name in made:
            subprocess.run(["userdel", "-r", name], capture_output=True)


def user_python(base: Path) -> Path:
    """A Python every account can run, seeing this environment's packages (read-only)."""
    env = base / "user-python"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(env)], check=True)
    packages = site.getsitepackages()[0]
    (next((env / "lib").glob("python3*")) / "site-packages" / "course-env.pth").write_text(
        f"import site; site.addsitedir({packages!r})\n")
    return env / "bin" / "python"


def as_learner(user: str, python: Path, script: Path, *args: str) -> dict:
    import json

    home = pwd.getpwnam(user).pw_dir
    done = subprocess.run(
        ["runuser", "-u", user, "--", "env", f"HOME={home}", "JUPYTER_DATA_DIR=",
         str(python), str(script), *args],
        capture_output=True, text=True, cwd=home, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_two_accounts_each_get_only_their_own_feedback(tmp_path: Path, monkeypatch,
                                                       accounts: dict[str, Path]):
    monkeypatch.delenv(cohorts.DB_URL_ENV, raising=False)
    shared = Path(tempfile.mkdtemp(prefix="pc-accounts-"))
    try:
        shared.chmod(0o755)
        exchange = shared / "exchange"
        exchange.mkdir()
        exchange.chmod(0o1777)
        python = user_python(shared)
        script = shared / "learner_step.py"
        script.write_text(LEARNER_STEP, encoding="utf-8")
        course = copy_course(tmp_path / "course", [MODULE])
        with (course / "grader_config.py").open("a", encoding="utf-8") as fh:
            fh.write(f"\nc.Exchange.root = {str(exchange)!r}\n")
        ann, ben = accounts
        cohort = cohorts.create_cohort(course, "spring", roster(tmp_path, ann, ben))
        cohorts.release(cohort, MODULE)
        work = {user: home / "course-work" for user, home in accounts.items()}
        text = {ann: BRIEFING["alice"], ben: BRIEFING["bea"]}
        for user, right in ((ann, True), (ben, False)):
            as_learner(user, python, script, "FetchAssignment", str(exchange), "spring",
                       MODULE, str(work[user]))
            notebook = work[user] / "spring" / MODULE / NOTEBOOK
            run_module(notebook, answers=answers(course, right), text=text[user])
            owner = pwd.getpwnam(user)
            for path in [work[user], *work[user].rglob("*")]:
                os.chown(path, owner.pw_uid, owner.pw_gid)  # her own work, as if she had run it
            as_learner(user, python, script, "Submit", str(exchange), "spring", MODULE,
                       str(work[user]))
        scores = grade_and_return(cohort)
        assert scores[ann][0] > scores[ben][0]
        for user, other in ((ann, ben), (ben, ann)):
            seen = as_learner(user, python, script, "FetchFeedback", str(exchange), "spring",
                              MODULE, str(work[user]))
            assert seen["feedback_folder"] == "PermissionError"  # cannot list others' pages
            assert_only_her_own(cohort, work[user], user, other, scores, text[user],
                                text[other])
        cohorts.purge(cohort)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
        for home in accounts.values():
            shutil.rmtree(home / "course-work", ignore_errors=True)


def test_the_learner_server_config_names_her_own_cache_and_feedback_step(tmp_path: Path,
                                                                        monkeypatch):
    """Without any grading: what `start --learner` writes for the learner's server."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "data"))
    course = copy_course(tmp_path / "course", [MODULE])
    workspace, _env = prepare_workspace(course, None, "spring", "alice", load_config(course))
    config = learner_server_config(workspace)
    assert config.CourseDirectory.student_id == "alice"
    cache = tmp_path / "data" / "nbgrader_cache" / "by-learner" / "alice"
    assert Path(config.Exchange.cache) == cache
    assert config.ExchangeFactory.fetch_feedback == "privacy_course.learner.exchange.OwnFeedback"
