"""`privacy-course start`: the learner's JupyterLab on one machine, with the embedded defaults.

It releases the built modules to the course's local exchange folder, fetches any the learner does
not have yet into their workspace (never overwriting their work), and starts a Jupyter server
there that opens on the course home (privacy_course.learner.pages): each module is a page that
runs itself (Voila, with the course's template), and JupyterLab is one click away. A private
Jupyter configuration folder gives the learner nbgrader's Assignments panel and Validate button
but not the facilitator's tools (formgrader, create-assignment).

`grader_config.py` is loaded once per command and the loaded configuration passed down.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from traitlets.config import Config

from privacy_course.authoring.build import module_ids
from privacy_course.config import ConfigError, load_config
from privacy_course.learner.exchange import exchange_step
from privacy_course.learner.pages import HOME_PATH, templates_folder, voila_settings

LEARNER_DISABLED_LABEXTENSIONS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
]
LEARNER_DISABLED_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader",
                                      "nbgrader.server_extensions.course_list"]
# The course home and the module pages, in every role's server.
PAGES_SERVER_EXTENSIONS = ["privacy_course.learner.pages", "voila.server_extension"]


class ExchangeProblem(ConfigError):
    """nbgrader's exchange refused a step (a folder it cannot create or read, a module already
    fetched elsewhere); the message says which step and why, in one sentence."""


def _run_step(step: Any, what: str) -> None:
    from nbgrader.exchange import ExchangeError

    try:
        step.start()
    except ExchangeError as exc:
        reason = str(exc).strip().rstrip(".") or "nbgrader's exchange refused it"
        raise ExchangeProblem(f"could not {what}: {reason}. Check the exchange folder "
                              f"{step.root} (Exchange.root in grader_config.py)") from exc


def exchange_config(config: Config, cohort: str | None = None,
                    learner_id: str | None = None) -> Config:
    """Only what a learner's tools need to find the exchange: course (or cohort) id, exchange
    root and, when several learners share one computer account, who is submitting, with a
    cache folder of her own (nbgrader keeps one per account, and hands back the feedback of
    every submission in it). Feedback is always fetched with `OwnFeedback`, which takes only
    the feedback of the learner's own submissions (privacy_course.learner.exchange)."""
    from privacy_course.learner.exchange import learner_cache

    learner = Config()
    learner.CourseDirectory.course_id = cohort or config.CourseDirectory.course_id
    learner.Exchange.root = config.Exchange.root
    if learner_id:
        learner.CourseDirectory.student_id = learner_id
        base = config.Exchange.get("cache")
        learner.Exchange.cache = str(learner_cache(learner_id, Path(base) if base else None))
    learner.Exchange.path_includes_course = bool(config.Exchange.get("path_includes_course", True))
    learner.ExchangeFactory.submit = "privacy_course.grading.intake.PrivateSubmit"
    learner.ExchangeFactory.fetch_feedback = "privacy_course.learner.exchange.OwnFeedback"
    return learner


def release_all(root: Path, config: Config) -> list[str]:
    """Copy every built module from release/ into the local exchange (re-releasing is safe)."""
    Path(config.Exchange.root).mkdir(parents=True, exist_ok=True)
    released = []
    for module_id in module_ids(root):
        if not (root / "release" / module_id).is_dir():
            continue
        release = exchange_step("ReleaseAssignment", config, module_id)
        release.force = True
        _run_step(release, f"release {module_id} to the exchange")
        released.append(module_id)
    return released


def fetch_missing(root: Path, workspace: Path, course_config: Config, cohort: str | None = None,
                  learner_id: str | None = None) -> list[str]:
    """Fetch into the workspace every released module the learner has not fetched yet."""
    config = exchange_config(course_config, cohort, learner_id)
    config.Exchange.assignment_dir = str(workspace)
    course_id = config.CourseDirectory.course_id
    outbound = Path(config.Exchange.root) / course_id / "outbound"
    fetched = []
    for module_id in module_ids(root):
        if (workspace / course_id / module_id).exists() or not (outbound / module_id).is_dir():
            continue
        _run_step(exchange_step("FetchAssignment", config, module_id),
                  f"fetch {module_id} into {workspace}")
        fetched.append(module_id)
    return fetched


def write_learner_jupyter_config(course_config: Config, config_dir: Path,
                                 cohort: str | None = None,
                                 learner_id: str | None = None) -> None:
    """A Jupyter configuration folder for the learner's server (JUPYTER_CONFIG_DIR)."""
    learner = exchange_config(course_config, cohort, learner_id)
    config_dir.mkdir(parents=True, exist_ok=True)
    lines = ["# Written by `privacy-course start`; the learner's view of the course exchange.",
             "c = get_config()  # noqa: F821"]
    for section, values in learner.items():
        for key, value in values.items():
            lines.append(f"c.{section}.{key} = {value!r}")
    (config_dir / "nbgrader_config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    write_lab_config(config_dir, facilitator=False)


def write_lab_config(config_dir: Path, facilitator: bool = False) -> None:
    """Which nbgrader tools a Lab shows: a learner's has the Assignments tab and Validate, with
    the facilitator's tools disabled and locked (so the learner cannot switch them back on).
    Also used by deploy/image's role script to bake both roles into the image."""
    (config_dir / "labconfig").mkdir(parents=True, exist_ok=True)
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    hidden = [] if facilitator else LEARNER_DISABLED_LABEXTENSIONS
    (config_dir / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {name: True for name in hidden},
         "lockedExtensions": {name: True for name in hidden}},
        indent=1, sort_keys=True) + "\n", encoding="utf-8")
    server = {name: facilitator for name in LEARNER_DISABLED_SERVER_EXTENSIONS}
    server.update({name: True for name in PAGES_SERVER_EXTENSIONS})
    server_config = voila_settings()
    server_config["ServerApp"] = {**server_config.get("ServerApp", {}),
                                  "jpserver_extensions": server}
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps(server_config, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    # jupyter_core writes a "migrated" marker into the config folder the first time an app starts;
    # where the folder is read-only for the user (a hub's shared role folder), that write failed
    # and took nbgrader's formgrader down with it. The marker being there already prevents it.
    (config_dir / "migrated").touch()
    # No news or update check: it would reach for the internet and cover the page.
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}) + "\n", encoding="utf-8")


def server_environment(config_dir: Path) -> dict[str, str]:
    """The environment of a course server: its Jupyter configuration folder, the course's Voila
    template on the Jupyter data path, and this environment's commands first on PATH."""
    env = dict(os.environ)
    env["JUPYTER_CONFIG_DIR"] = str(config_dir)
    env["JUPYTER_PATH"] = os.pathsep.join(
        p for p in (str(templates_folder()), env.get("JUPYTER_PATH", "")) if p)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def prepare_workspace(root: Path, workspace: Path | None = None, cohort: str | None = None,
                      learner_id: str | None = None, config: Config | None = None
                      ) -> tuple[Path, dict[str, str]]:
    """Release (self-study only: a cohort's facilitator releases), fetch and configure; return
    the workspace and the server's environment. `config` is the loaded `grader_config.py`
    (loaded here when not given)."""
    config = config if config is not None else load_config(root)
    # Learners sharing one computer account each get a folder of their own (their work and the
    # feedback nbgrader fetches into it): learner/<id>/; self-study uses learner/.
    default = root / "learner" / learner_id if learner_id else root / "learner"
    workspace = (workspace or default).resolve()
    workspace.mkdir(parents=True, exist_ok=True)
    if cohort is None:
        release_all(root, config)
    fetch_missing(root, workspace, config, cohort, learner_id)
    config_dir = workspace / ".jupyter"
    write_learner_jupyter_config(config, config_dir, cohort, learner_id)
    env = server_environment(config_dir)
    env.pop("PRIVACY_COURSE_ROOT", None)
    return workspace, env


def prepare_facilitator(root: Path, cohort: str | None = None) -> tuple[Path, dict[str, str]]:
    """The facilitator's Lab runs in the cohort's folder (or the course folder for the built-in
    course), where nbgrader finds that cohort's configuration, with every nbgrader tool on."""
    if cohort:
        from privacy_course.facilitator.cohort import open_cohort, write_nbgrader_config

        the_cohort = open_cohort(root, cohort)
        write_nbgrader_config(the_cohort)
        folder = the_cohort.folder
    else:
        folder = root
    config_dir = folder / ".jupyter-facilitator"
    write_lab_config(config_dir, facilitator=True)
    return folder, server_environment(config_dir)


def start(root: Path, workspace: Path | None = None, port: int = 8888,
          open_browser: bool = True, cohort: str | None = None,
          learner_id: str | None = None, facilitator: bool = False) -> int:
    """Prepare the learner's workspace (or, with `facilitator`, the facilitator's view) and run
    the Jupyter server there until it is stopped: a learner's opens on the course home, a
    facilitator's on JupyterLab."""
    if facilitator:
        workspace, env = prepare_facilitator(root, cohort)
        course_id, default_url = "", "/lab"
    else:
        config = load_config(root)
        personal = cohort is None
        if personal:  # self-study: a cohort of one, graded as soon as a module is submitted
            from privacy_course.selfstudy import (
                PERSONAL_ENV,
                ensure_personal_cohort,
                personal_learner_id,
            )

            learner_id = learner_id or personal_learner_id()
            cohort = ensure_personal_cohort(root, config, learner_id).name
            workspace = (workspace or root / "learner").resolve()
            # Her record of what she handed in stays with her folder: nbgrader's default cache
            # is one per computer account, shared by every course folder on it.
            config.Exchange.cache = str(workspace / ".privacy-course" / "nbgrader-cache")
        workspace, env = prepare_workspace(root, workspace, cohort, learner_id, config)
        if personal:
            env[PERSONAL_ENV] = str(root)
        course_id = cohort or config.CourseDirectory.course_id
        default_url = "/" + HOME_PATH
    print(f"Course folder: {workspace / course_id}")
    args = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={workspace}",
            f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--LabApp.default_url={default_url}"]
    if not open_browser:
        args.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")  # containers and CI machines often run as root
    return run_server(args, workspace, env)


def run_server(args: list[str], cwd: Path, env: dict[str, str]) -> int:
    """Run the Jupyter server until it stops; stopping this command (Ctrl-C, or SIGTERM from a
    service manager or `kill`) stops the server too, instead of leaving it running orphaned."""
    proc = subprocess.Popen(args, cwd=cwd, env=env)

    def forward(signum: int, _frame: Any) -> None:
        if proc.poll() is None:
            proc.send_signal(signum)

    previous = signal.signal(signal.SIGTERM, forward)
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:  # Ctrl-C reached both; let the server shut down cleanly
                forward(signal.SIGINT, None)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
