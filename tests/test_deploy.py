"""The deployment kit in deploy/: the hub configuration loads with JupyterHub's own loader and
sets only real traits, the Zero to JupyterHub values use only keys of the chart's schema, the
image's Dockerfile copies files that exist, and the role script gives a learner's Lab the
instructor tools disabled and locked and a facilitator's Lab all of them."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
HUB_CONFIG = DEPLOY / "littlest" / "jupyterhub_config.py"
VALUES = DEPLOY / "kubernetes" / "values.yaml"
DOCKERFILE = DEPLOY / "image" / "Dockerfile"
ROLE_SCRIPT = DEPLOY / "image" / "configure_role.py"
SCHEMA_PATHS = Path(__file__).parent / "data" / "z2jh_values_paths.txt"
INSTRUCTOR_TOOLS = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"}

jupyterhub = pytest.importorskip("jupyterhub", reason="pip install jupyterhub (test extra)")


def load_py_config(path: Path) -> Config:
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def fake_spawner(*groups: str) -> SimpleNamespace:
    user = SimpleNamespace(name="someone", groups=[SimpleNamespace(name=g) for g in groups])
    return SimpleNamespace(user=user, environment={}, volumes=[], volume_mounts=[])


# --- the one-machine hub -------------------------------------------------------------------------

@pytest.fixture
def hub_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Config:
    roster = tmp_path / "spring.csv"
    roster.write_text("id,first_name,last_name,email\nalice,Alice,A,a@example.org\n"
                      "bo,Bo,B,b@example.org\n", encoding="utf-8")
    cohorts = tmp_path / "cohorts.toml"
    cohorts.write_text(f'admins = ["it-admin"]\n[cohorts.spring-2027]\nfacilitators = ["dana"]\n'
                       f'roster = "{roster}"\nlearners = ["late"]\n', encoding="utf-8")
    monkeypatch.setenv("PRIVACY_COURSE_HUB_COHORTS", str(cohorts))
    monkeypatch.setenv("PRIVACY_COURSE_STANDALONE", "1")
    monkeypatch.setenv("PRIVACY_COURSE_DB_URL", "postgresql+psycopg://grader@db/privacy_{cohort}")
    return load_py_config(HUB_CONFIG)


def test_hub_config_loads_with_cohort_groups(hub_config: Config) -> None:
    groups = hub_config.JupyterHub.load_groups
    assert groups["nbgrader-spring-2027"]["users"] == ["alice", "bo", "late"]
    assert groups["formgrade-spring-2027"]["users"] == ["dana"]
    assert hub_config.Authenticator.allowed_users == {"alice", "bo", "late", "dana", "it-admin"}
    assert hub_config.Authenticator.admin_users == {"it-admin"}
    assert "read:users:groups!user" in hub_config.Spawner.server_token_scopes


def test_hub_binds_localhost_only_with_limits(hub_config: Config) -> None:
    assert hub_config.JupyterHub.bind_url.startswith("http://127.0.0.1:")
    assert hub_config.JupyterHub.hub_ip == "127.0.0.1"
    assert hub_config.Spawner.mem_limit == "1G"
    assert hub_config.SystemdSpawner.mem_limit == "1G"
    assert hub_config.Spawner.cpu_limit == 1.0


def test_hub_config_sets_only_real_traits(hub_config: Config) -> None:
    from jupyterhub.app import JupyterHub
    from jupyterhub.auth import Authenticator
    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
    from jupyterhub.proxy import ConfigurableHTTPProxy
    from jupyterhub.spawner import LocalProcessSpawner, Spawner

    classes = {cls.__name__: cls for cls in (JupyterHub, Authenticator, Spawner,
                                             LocalProcessSpawner, ConfigurableHTTPProxy,
                                             SharedPasswordAuthenticator)}
    try:
        classes["SystemdSpawner"] = importlib.import_module("systemdspawner").SystemdSpawner
    except ImportError:  # not installed here; TLJH ships it
        pass
    checked = 0
    for section, values in hub_config.items():
        if section not in classes:
            assert section == "SystemdSpawner", f"unexpected config section {section}"
            continue
        traits = classes[section].class_traits(config=True)
        for key in values:
            assert key in traits, f"{section}.{key} is not a configurable trait"
            checked += 1
    assert checked >= 15
    assert hub_config.JupyterHub.spawner_class in ("systemdspawner", "localprocess")


def test_hub_role_switch(hub_config: Config) -> None:
    hook = hub_config.Spawner.pre_spawn_hook
    facilitator = fake_spawner("formgrade-spring-2027", "nbgrader-spring-2027")
    hook(facilitator)
    assert facilitator.environment["PRIVACY_COURSE_ROLE"] == "facilitator"
    assert facilitator.environment["JUPYTER_CONFIG_DIR"].endswith("/facilitator")
    assert facilitator.environment["PRIVACY_COURSE_COHORT"] == "spring-2027"
    assert "PRIVACY_COURSE_DB_URL" in facilitator.environment
    learner = fake_spawner("nbgrader-spring-2027")
    hook(learner)
    assert learner.environment["PRIVACY_COURSE_ROLE"] == "learner"
    assert learner.environment["JUPYTER_CONFIG_DIR"].endswith("/learner")
    assert "PRIVACY_COURSE_DB_URL" not in learner.environment
    assert "PRIVACY_COURSE_ROOT" not in learner.environment
    stranger = fake_spawner()
    hook(stranger)
    assert stranger.environment["PRIVACY_COURSE_ROLE"] == "learner"


# --- the Kubernetes values -----------------------------------------------------------------------

def schema_paths() -> tuple[set[str], list[str]]:
    exact, free = set(), []
    for line in SCHEMA_PATHS.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        if line.endswith(".*"):
            free.append(line[:-2])
        exact.add(line.removesuffix(".*"))
    return exact, free


def value_paths(node: object, prefix: str = "") -> list[str]:
    if not isinstance(node, dict):
        return []
    out = []
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out.append(path)
        out += value_paths(value, path)
    return out


def test_values_use_only_z2jh_schema_keys() -> None:
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    exact, free = schema_paths()
    unknown = [p for p in value_paths(values)
               if p not in exact and not any(p.startswith(f + ".") for f in free)]
    assert not unknown, f"not in the z2jh values schema: {unknown}"
    # hub.config takes only traitlets class names (schema: patternProperties ^[A-Z]).
    assert all(re.match(r"^[A-Z]", name) for name in values["hub"]["config"])


def test_values_course_essentials() -> None:
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    single = values["singleuser"]
    mounts = {m["name"]: m["mountPath"] for m in single["storage"]["extraVolumeMounts"]}
    claims = {v["name"]: v["persistentVolumeClaim"]["claimName"]
              for v in single["storage"]["extraVolumes"]}
    assert mounts["nbgrader-exchange"] == single["extraEnv"]["PRIVACY_COURSE_EXCHANGE"]
    assert claims["nbgrader-exchange"] == "nbgrader-exchange"
    shared = list(yaml.safe_load_all((DEPLOY / "kubernetes" / "shared-volumes.yaml").read_text()))
    assert {d["metadata"]["name"]: d["spec"]["accessModes"] for d in shared} == {
        "nbgrader-exchange": ["ReadWriteMany"], "privacy-course": ["ReadWriteMany"]}
    assert single["memory"] == {"guarantee": "320M", "limit": "1G"}
    assert 0 < single["cpu"]["guarantee"] <= single["cpu"]["limit"]
    assert "privacy-course" not in mounts  # the course volume is for facilitators only
    assert "PRIVACY_COURSE_DB_URL" not in single["extraEnv"]


def test_values_extra_config_groups_and_role_hook(tmp_path: Path) -> None:
    values = yaml.safe_load(VALUES.read_text(encoding="utf-8"))
    cohorts = tmp_path / "cohorts.json"
    cohorts.write_text(json.dumps(values["hub"]["extraFiles"]["cohorts"]["data"]))
    code = values["hub"]["extraConfig"]["10-privacy-course"]
    assert "/etc/privacy-course/cohorts.json" in code
    c = Config()
    exec(compile(code.replace("/etc/privacy-course/cohorts.json", str(cohorts)),
                 "extraConfig", "exec"), {"c": c})
    assert set(c.JupyterHub.load_groups) == {"nbgrader-spring-2027", "formgrade-spring-2027"}
    hook = c.KubeSpawner.pre_spawn_hook
    facilitator = fake_spawner("formgrade-spring-2027")
    hook(facilitator)
    assert facilitator.environment["PRIVACY_COURSE_ROLE"] == "facilitator"
    assert facilitator.environment["PRIVACY_COURSE_DB_URL"]["valueFrom"]["secretKeyRef"]
    assert [m["mountPath"] for m in facilitator.volume_mounts] == ["/srv/privacy-course"]
    learner = fake_spawner("nbgrader-spring-2027")
    hook(learner)
    assert learner.environment == {"PRIVACY_COURSE_COHORT": "spring-2027",
                                   "PRIVACY_COURSE_ROLE": "learner"}
    assert learner.volume_mounts == []


# --- the image -----------------------------------------------------------------------------------

def dockerfile_copies() -> list[tuple[list[str], str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    copies = []
    for line in text.splitlines():
        words = line.split()
        if words and words[0] == "COPY":
            args = [w for w in words[1:] if not w.startswith("--")]
            copies.append((args[:-1], args[-1]))
    return copies


def test_dockerfile_copies_files_that_exist() -> None:
    copies = dockerfile_copies()
    sources = [s for srcs, _ in copies for s in srcs]
    assert {"privacy_course", "release", "grader_config.py", "pyproject.toml"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"
    ignored = (DEPLOY / "image" / "Dockerfile.dockerignore").read_text().splitlines()
    for source in sources:
        assert source.split("/")[0] not in ignored, f"{source} is excluded from the context"
    text = DOCKERFILE.read_text(encoding="utf-8")
    for role in ("learner", "facilitator"):
        assert f"--role {role} --config-dir /etc/privacy-course/{role}" in text
    assert "bubblewrap" in text and "jupyterhub-singleuser" in text


def test_image_requirements_parse() -> None:
    from packaging.requirements import Requirement

    lines = [line.strip() for line in
             (DEPLOY / "image" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    names = {Requirement(line).name for line in lines}
    assert names == {"jupyterhub", "psycopg"}


def run_role(role: str, config_dir: Path) -> None:
    subprocess.run([sys.executable, str(ROLE_SCRIPT), "--role", role, "--config-dir",
                    str(config_dir), "--exchange", "/srv/ex"], check=True, cwd=REPO,
                   capture_output=True, text=True)


def test_role_script_learner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = tmp_path / "learner"
    run_role("learner", config_dir)
    page = json.loads((config_dir / "labconfig" / "page_config.json").read_text())
    assert INSTRUCTOR_TOOLS <= {k for k, v in page["disabledExtensions"].items() if v}
    assert INSTRUCTOR_TOOLS <= {k for k, v in page["lockedExtensions"].items() if v}
    server = json.loads((config_dir / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["jpserver_extensions"][
        "nbgrader.server_extensions.formgrader"] is False
    # What JupyterLab itself reads from this folder.
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir))
    listing = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                             env=env, capture_output=True, text=True, check=True)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    disabled = text.split("Disabled extensions:")[1]
    assert all(tool in disabled for tool in INSTRUCTOR_TOOLS)
    assert re.search(r"@jupyter/nbgrader:formgrader locked", text)
    # The nbgrader part, as the learner's server reads it on the hub.
    monkeypatch.setenv("PRIVACY_COURSE_COHORT", "spring-2027")
    monkeypatch.setenv("JUPYTERHUB_USER", "alice")
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "x")
    monkeypatch.delenv("PRIVACY_COURSE_EXCHANGE", raising=False)
    nb = load_py_config(config_dir / "nbgrader_config.py")
    assert nb.CourseDirectory.course_id == "spring-2027"
    assert nb.CourseDirectory.student_id == "alice"
    assert nb.Exchange.root == "/srv/ex"
    assert nb.Exchange.path_includes_course is True
    assert nb.Authenticator.plugin_class == "nbgrader.auth.JupyterHubAuthPlugin"


def test_role_script_facilitator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = tmp_path / "facilitator"
    run_role("facilitator", config_dir)
    page = json.loads((config_dir / "labconfig" / "page_config.json").read_text())
    assert not page["disabledExtensions"] and not page["lockedExtensions"]
    server = json.loads((config_dir / "jupyter_server_config.json").read_text())
    assert all(server["ServerApp"]["jpserver_extensions"].values())
    monkeypatch.setenv("PRIVACY_COURSE_ROOT", str(tmp_path / "course"))
    monkeypatch.setenv("PRIVACY_COURSE_COHORT", "spring-2027")
    server_py = load_py_config(config_dir / "jupyter_server_config.py")
    assert server_py.ServerApp.root_dir == str(tmp_path / "course")
    assert server_py.LabApp.user_settings_dir.startswith(os.path.expanduser("~"))
    nb = load_py_config(config_dir / "nbgrader_config.py")  # no cohort folder yet: still loads
    assert nb.CourseDirectory.course_id == "spring-2027"


def test_init_course_root_points_the_exchange(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    sys.path.insert(0, str(ROLE_SCRIPT.parent))
    try:
        import configure_role
    finally:
        sys.path.pop(0)
    source = tmp_path / "image"
    source.mkdir()
    for name in ("grader_config.py", "nbgrader_config.py"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "modules" / "m01-making-the-case",
                    source / "modules" / "m01-making-the-case")
    dest = tmp_path / "srv" / "privacy-course"
    assert configure_role.init_course_root(dest, source) is True
    assert configure_role.init_course_root(dest, source) is False  # never overwrites
    monkeypatch.setenv("PRIVACY_COURSE_EXCHANGE", str(tmp_path / "exchange"))
    from privacy_course.config import load_config

    assert load_config(dest).Exchange.root == str(tmp_path / "exchange")


@pytest.mark.parametrize("role,expected", [("facilitator", "facilitator"),
                                           ("learner", "learner"), ("Facilitator", "learner"),
                                           ("", "learner")])
def test_entrypoint_maps_role(role: str, expected: str, tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "PRIVACY_COURSE_ROLE": role, "HOME": str(tmp_path),
           "PRIVACY_COURSE_ROOT": str(tmp_path / "course")}
    script = (DEPLOY / "image" / "entrypoint.sh").read_text()
    # The image's copy of the role script lives in /opt; point it at this repository's.
    script = script.replace("/opt/privacy-course/deploy/image/configure_role.py", str(ROLE_SCRIPT))
    script = script.replace("python ", f"{sys.executable} ")
    script = script.replace("--from /opt/privacy-course", f"--from {REPO}")
    entry = tmp_path / "entrypoint.sh"
    entry.write_text(script)
    out = subprocess.run(["sh", str(entry), "sh", "-c", 'echo "$JUPYTER_CONFIG_DIR"'],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == f"/etc/privacy-course/{expected}"
    assert (tmp_path / "course" / "grader_config.py").is_file() == (expected == "facilitator")


# --- the measured figure behind the sizing table -------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_learner_server_fits_its_memory_guarantee(tmp_path: Path) -> None:
    """The sizing in deploy/README.md: a learner's Lab running m01 end to end stays within the
    memory guarantee of values.yaml (320M), itself well under the 1G limit."""
    sys.path.insert(0, str(DEPLOY))
    try:
        import measure_memory
    finally:
        sys.path.pop(0)
    root = tmp_path / "course"
    root.mkdir()
    for name in ("modules", "source", "release"):
        shutil.copytree(REPO / name, root / name)
    for name in ("grader_config.py", "nbgrader_config.py"):
        shutil.copy2(REPO / name, root / name)
    result = measure_memory.measure(root, free_port(), settle=1.0)
    assert result["cell_errors"] == [] and result["work_product_written"]
    assert result["peak_server_and_kernel"]["rss"] < 320e6 / 2**20
