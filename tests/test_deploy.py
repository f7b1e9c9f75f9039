"""The deployment kit in deploy/, each part run for real where this machine allows.

* members: the cohorts file and its rosters become hub members through the course's own roster
  reader, sign-in e-mails map to roster ids, and every problem is reported at once;
* the one-machine hub configuration loads with JupyterHub's own loader (also on the Python 3.10
  of TLJH on Ubuntu 22.04), sets only real traits, and switches roles and limits;
* district sign-in: Google, Entra ID and LDAP, with OAuthenticator's and LDAPAuthenticator's
  own classes and the kit's settings, give the roster's ids;
* the Zero to JupyterHub values use only keys of the chart's schema; the spawn hook gives every
  user a uid of their own and only facilitators the instructor image, the course volume and the
  database's network policy;
* the images: the learner's has no instructor tree; the entrypoint never makes a learner's
  image a facilitator's, and names a uid with no passwd entry;
* the installed layout, as two real Unix users: the learner reads no answer key anywhere the
  installer put files, cannot rename the exchange's folders, the facilitator can;
* grading's worker count follows a real cgroup's CPU quota and memory limit."""

from __future__ import annotations

import asyncio
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

from .kit_layout import copy_kit, key_markers, probe_code, probe_result

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
HUB_CONFIG = DEPLOY / "littlest" / "jupyterhub_config.py"
HUB_MODULE = DEPLOY / "hub" / "privacy_course_hub.py"
MEMBERS_SCRIPT = DEPLOY / "hub" / "members.py"
VALUES = DEPLOY / "kubernetes" / "values.yaml"
OVERLAYS = {"entra": DEPLOY / "kubernetes" / "sign-in-entra-id.yaml",
            "ldap": DEPLOY / "kubernetes" / "sign-in-ldap.yaml"}
DOCKERFILE = DEPLOY / "image" / "Dockerfile"
ROLE_SCRIPT = DEPLOY / "image" / "configure_role.py"
SCHEMA_PATHS = Path(__file__).parent / "data" / "z2jh_values_paths.txt"
INSTRUCTOR_TOOLS = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"}
MODULE = "m01-making-the-case"
ROSTER = ("id,first_name,last_name,email\n"
          "aavery,Ann,Avery,Ann.Avery@Example.org\nbo,Bo,Bell,bo.bell@example.org\n")

jupyterhub = pytest.importorskip("jupyterhub", reason="pip install jupyterhub (test extra)")


def load_py_config(path: Path) -> Config:
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def import_from(folder: Path, name: str):
    sys.path.insert(0, str(folder))
    try:
        return __import__(name)
    finally:
        sys.path.pop(0)


hub_module = import_from(DEPLOY / "hub", "privacy_course_hub")
members_module = import_from(DEPLOY / "hub", "members")


def fake_spawner(*groups: str, name: str = "someone") -> SimpleNamespace:
    user = SimpleNamespace(name=name, groups=[SimpleNamespace(name=g) for g in groups])
    return SimpleNamespace(user=user, environment={}, volumes=[], volume_mounts=[],
                           init_containers=[], extra_labels={}, supplemental_gids=[])


def write_cohorts(folder: Path, roster: str = ROSTER, extra: str = "") -> Path:
    (folder / "spring.csv").write_text(roster, encoding="utf-8")
    cohorts = folder / "cohorts.toml"
    cohorts.write_text('admins = ["it-admin"]\n[sign_in]\n"Dana.Smith@example.org" = "dana"\n'
                       '[cohorts.spring-2027]\nfacilitators = ["dana"]\nroster = "spring.csv"\n'
                       'learners = ["late"]\n' + extra, encoding="utf-8")
    return cohorts


# --- members: the cohorts file and rosters, read by the course's own roster reader -----------

def test_members_from_the_cohorts_file(tmp_path: Path) -> None:
    members = members_module.read_members(write_cohorts(tmp_path))
    assert members["cohorts"] == {"spring-2027": {"learners": ["aavery", "bo", "late"],
                                                  "facilitators": ["dana"]}}
    assert members["admins"] == ["it-admin"]
    # Roster e-mails, lower-cased as the roster reader stores them, and the [sign_in] table.
    assert members["sign_in"] == {"ann.avery@example.org": "aavery",
                                  "bo.bell@example.org": "bo", "dana.smith@example.org": "dana"}
    # The same people `privacy-course cohort create` would put in the cohort.
    from privacy_course.facilitator.roster import read_roster

    assert {learner.id for learner in read_roster(tmp_path / "spring.csv")} <= set(
        members["cohorts"]["spring-2027"]["learners"])


def test_members_report_every_problem_at_once(tmp_path: Path) -> None:
    (tmp_path / "autumn.csv").write_text("id,first_name,last_name,email\n"
                                         "Ann2,Ann,Second,ann2@example.org\n"
                                         "annie,Ann,Avery,ANN.AVERY@example.org\n")
    cohorts = write_cohorts(tmp_path, extra='[cohorts.autumn]\nfacilitators = ["it-admin"]\n'
                                            'roster = "autumn.csv"\n'
                                            '[cohorts.Bad_Name]\nfacilitators = ["x"]\n'
                                            '[cohorts.winter]\nfacilitators = ["Dana Smith"]\n'
                                            'roster = "missing.csv"\n')
    with pytest.raises(members_module.MembersError) as caught:
        members_module.read_members(cohorts)
    text = str(caught.value)
    assert str(cohorts) in text and "the hub was not changed" in text
    for expected in ("'Ann2' has capital letters", "use 'ann2'",
                     "ann.avery@example.org signs in as 'annie' here but as 'aavery'",
                     "it-admin both admin and facilitator", "cohorts.Bad_Name",
                     "'Dana Smith' is not a hub name", "missing.csv"):
        assert expected in text, (expected, text)
    # The hub's side runs members.py with the course's Python and passes the message on.
    with pytest.raises(hub_module.MembersError, match="has capital letters"):
        hub_module.load_members(cohorts, sys.executable)


# --- the one-machine hub ---------------------------------------------------------------------

@pytest.fixture
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cohorts = write_cohorts(tmp_path)
    monkeypatch.setenv("PRIVACY_COURSE_HUB_COHORTS", str(cohorts))
    monkeypatch.setenv("PRIVACY_COURSE_USER_PYTHON", sys.executable)
    monkeypatch.setenv("PRIVACY_COURSE_STANDALONE", "1")
    monkeypatch.setenv("PRIVACY_COURSE_DB_URL", "postgresql+psycopg://grader@db/privacy_{cohort}")
    return cohorts


@pytest.fixture
def hub_config(hub_env: Path) -> Config:
    """The kit's configuration as JupyterHub itself loads it."""
    from jupyterhub.app import JupyterHub

    app = JupyterHub()
    app.load_config_file(str(HUB_CONFIG))
    return app.config


def test_hub_config_members_groups_and_sign_in(hub_config: Config) -> None:
    groups = hub_config.JupyterHub.load_groups
    assert groups["nbgrader-spring-2027"]["users"] == ["aavery", "bo", "late"]
    assert groups["formgrade-spring-2027"]["users"] == ["dana"]
    assert hub_config.Authenticator.allowed_users == {"aavery", "bo", "late", "dana", "it-admin"}
    assert hub_config.Authenticator.allow_existing_users is False
    assert hub_config.Authenticator.admin_users == {"it-admin"}
    assert hub_config.Authenticator.username_map["ann.avery@example.org"] == "aavery"
    assert "read:users:groups!user" in hub_config.Spawner.server_token_scopes
    sync = next(s for s in hub_config.JupyterHub.services if s["name"] == "privacy-course-sync")
    assert sync["command"][1] == str(HUB_MODULE) and "--unix-group" in sync["command"]
    role = next(r for r in hub_config.JupyterHub.load_roles if r["name"] == sync["name"])
    assert {"admin:users", "groups", "servers"} <= set(role["scopes"])


def test_hub_binds_localhost_only_with_limits(hub_config: Config) -> None:
    assert hub_config.JupyterHub.bind_url.startswith("http://127.0.0.1:")
    assert hub_config.JupyterHub.hub_ip == "127.0.0.1"
    assert hub_config.Spawner.mem_limit == "1G" and hub_config.Spawner.cpu_limit == 1.0
    assert hub_config.JupyterHub.db_url.startswith("sqlite:////srv/jupyterhub/")


def test_hub_config_sets_only_real_traits(hub_config: Config) -> None:
    from jupyterhub.app import JupyterHub
    from jupyterhub.auth import Authenticator
    from jupyterhub.authenticators.shared import SharedPasswordAuthenticator
    from jupyterhub.proxy import ConfigurableHTTPProxy
    from jupyterhub.spawner import LocalProcessSpawner, Spawner

    classes = {cls.__name__: cls for cls in (JupyterHub, Authenticator, Spawner,
                                             LocalProcessSpawner, ConfigurableHTTPProxy,
                                             SharedPasswordAuthenticator)}
    from systemdspawner import SystemdSpawner

    classes["SystemdSpawner"] = SystemdSpawner  # TLJH's spawner (UserCreatingSpawner's base)
    checked = 0
    for section, values in hub_config.items():
        traits = classes[section].class_traits(config=True)
        for key in values:
            assert key in traits, f"{section}.{key} is not a configurable trait"
            checked += 1
    assert checked >= 15


def test_hub_role_switch_and_limits(hub_config: Config) -> None:
    hook = hub_config.Spawner.pre_spawn_hook
    facilitator = fake_spawner("formgrade-spring-2027", "nbgrader-spring-2027")
    hook(facilitator)
    assert facilitator.environment["PRIVACY_COURSE_ROLE"] == "facilitator"
    assert facilitator.environment["JUPYTER_CONFIG_DIR"].endswith("/facilitator")
    assert facilitator.environment["PRIVACY_COURSE_COHORT"] == "spring-2027"
    assert "PRIVACY_COURSE_DB_URL" in facilitator.environment
    # Grading runs in the facilitator's own server: more than a learner's limits.
    assert (facilitator.mem_limit, facilitator.cpu_limit) == ("4G", 2.0)
    learner = fake_spawner("nbgrader-spring-2027")
    hook(learner)
    assert learner.environment["PRIVACY_COURSE_ROLE"] == "learner"
    assert learner.environment["JUPYTER_CONFIG_DIR"].endswith("/learner")
    assert "PRIVACY_COURSE_DB_URL" not in learner.environment
    assert "PRIVACY_COURSE_ROOT" not in learner.environment
    assert (learner.mem_limit, learner.cpu_limit) == ("1G", 1.0)
    stranger = fake_spawner()
    hook(stranger)
    assert stranger.environment["PRIVACY_COURSE_ROLE"] == "learner"


def tljh_python(version: str) -> str:
    """A CPython of TLJH's supported systems (3.9: Debian 11; 3.10: Ubuntu 22.04)."""
    candidates = [shutil.which(f"python{version}") or "", f"/usr/bin/python{version}"]
    pyenv = shutil.which("pyenv")
    if pyenv:  # interpreters pyenv installed, whichever of them is selected
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        candidates += sorted(str(p) for p in Path(root).glob(f"versions/{version}.*/bin/"
                                                             f"python{version}"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and subprocess.run(
                [candidate, "-c", "import venv"], capture_output=True).returncode == 0:
            return candidate
    pytest.fail(f"no Python {version} on this machine (pyenv install {version} or apt-get "
                f"install python{version}): the hub configuration must be run on it")


@pytest.mark.slow
def test_hub_config_runs_on_the_python_of_tljh(hub_env: Path, tmp_path: Path) -> None:
    """TLJH's hub environment is the system's Python: 3.10 on Ubuntu 22.04 (no tomllib), 3.9
    on Debian 11. JupyterHub 5 (TLJH 2.0's) loads the kit's configuration on 3.10; both hub
    files compile on 3.9."""
    venv = tmp_path / "hub310"
    subprocess.run([tljh_python("3.10"), "-m", "venv", str(venv)], check=True)
    # TLJH 2.0's hub environment (tljh/requirements-hub-env.txt): JupyterHub 5, SystemdSpawner.
    subprocess.run([str(venv / "bin/pip"), "install", "--quiet", "jupyterhub>=5.2,<6",
                    "jupyterhub-systemdspawner>=1.0.2,<2"], check=True, capture_output=True)
    code = ("import json, sys; from jupyterhub.app import JupyterHub\n"
            "app = JupyterHub(); app.load_config_file(sys.argv[1])\n"
            "print(sys.version_info[:2], json.dumps(sorted(app.config.JupyterHub.load_groups)))\n")
    out = subprocess.run([str(venv / "bin/python"), "-c", code, str(HUB_CONFIG)], check=True,
                         capture_output=True, text=True, env=dict(os.environ)).stdout
    assert out.strip() == '(3, 10) ["formgrade-spring-2027", "nbgrader-spring-2027"]', out
    subprocess.run([tljh_python("3.9"), "-c", "import sys\nfor f in sys.argv[1:]:\n"
                    "    compile(open(f).read(), f, 'exec')", str(HUB_CONFIG), str(HUB_MODULE)],
                   check=True)


# --- district sign-in: the authenticators' own classes with the kit's settings ---------------

def members_auth_config(tmp_path: Path) -> dict:
    members = hub_module.load_members(write_cohorts(tmp_path), sys.executable)
    return {"allowed_users": members.everyone(), "username_map": members.sign_in}


def values_config(*files: Path) -> Config:
    config = Config()
    for path in files:
        config.merge(Config(yaml.safe_load(path.read_text())["hub"]["config"]))
    return config


def sign_in(authenticator, user_info: dict) -> tuple[str, bool]:
    """What JupyterHub does with what the identity provider said (after the token exchange):
    the authenticator's user name, lower-cased and mapped (normalize_username), then its allow
    check with the auth model OAuthenticator builds."""
    name = authenticator.user_info_to_username(user_info)
    model = {"name": name, "admin": None,
             "auth_state": {authenticator.user_auth_state_key: user_info}}
    hub_name = authenticator.normalize_username(name)
    return hub_name, asyncio.run(authenticator.check_allowed(hub_name, model))


def test_google_sign_in_gives_roster_ids(tmp_path: Path) -> None:
    from oauthenticator.google import GoogleOAuthenticator

    config = values_config(VALUES)
    config.Authenticator.update(members_auth_config(tmp_path))
    google = GoogleOAuthenticator(config=config)
    info = {"email": "Ann.Avery@Example.org", "hd": "example.org", "verified_email": True}
    assert sign_in(google, dict(info)) == ("aavery", True)
    # Why strip_domain is off: with one hosted_domain OAuthenticator cuts the domain off, and
    # "ann.avery" is no roster id.
    del config.GoogleOAuthenticator["strip_domain"]
    assert sign_in(GoogleOAuthenticator(config=config), dict(info)) == ("ann.avery", False)


def test_entra_id_sign_in_gives_roster_ids(tmp_path: Path) -> None:
    from oauthenticator.azuread import AzureAdOAuthenticator

    config = values_config(VALUES, OVERLAYS["entra"])
    assert config.JupyterHub.authenticator_class == "azuread"
    config.Authenticator.update(members_auth_config(tmp_path))
    entra = AzureAdOAuthenticator(config=config)
    claims = {"name": "Ann Avery", "upn": "Ann.Avery@example.org", "oid": "1f0c"}
    assert sign_in(entra, claims) == ("aavery", True)
    default = AzureAdOAuthenticator(config=Config(
        {"Authenticator": members_auth_config(tmp_path)}))
    assert sign_in(default, claims) == ("ann avery", False)  # a display name: no roster id


def test_ldap_sign_in_gives_roster_ids(tmp_path: Path) -> None:
    from ldapauthenticator import LDAPAuthenticator

    config = values_config(VALUES, OVERLAYS["ldap"])
    config.Authenticator.update(members_auth_config(tmp_path))
    ldap = LDAPAuthenticator(config=config)
    typed_ok = ("AAvery", "aavery", "Ann.Avery@Example.org")
    assert all(re.match(ldap.valid_username_regex, typed) for typed in typed_ok)
    assert not any(re.match(ldap.valid_username_regex, typed)
                   for typed in ("*)(uid=*", "a,b", "Ann Avery"))
    assert ldap.use_lookup_dn_username and ldap.lookup_dn_user_dn_attribute == "sAMAccountName"
    assert [ldap.normalize_username(t) for t in typed_ok] == ["aavery", "aavery", "aavery"]


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


@pytest.mark.parametrize("path", [VALUES, *OVERLAYS.values()], ids=lambda p: p.name)
def test_values_use_only_z2jh_schema_keys(path: Path) -> None:
    values = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    assert "chmod 1777" in single["initContainers"][0]["command"][-1]
    # Every user pod: no egress but DNS (the database rule lives in network-policies.yaml).
    assert "egress" not in single["networkPolicy"]
    assert not any(single["networkPolicy"]["egressAllowRules"][k]
                   for k in ("nonPrivateIPs", "privateIPs", "cloudMetadataServer"))
    assert values["hub"]["config"]["Authenticator"]["allow_existing_users"] is False


def test_values_hold_no_person() -> None:
    """Helm keeps every revision of the values (and so of anything in them) after a purge:
    names and e-mails come from the members Secret instead."""
    text = VALUES.read_text(encoding="utf-8")
    emails = set(re.findall(r"[\w.+-]+@[\w-]+\.[\w.]+", text))
    assert emails == {"it-admin@example.org"}, emails  # Let's Encrypt's contact only
    values = yaml.safe_load(text)
    assert "cohorts" not in values["hub"]["extraFiles"]
    assert values["hub"]["extraVolumes"][0]["secret"]["secretName"] == "privacy-course-members"


def run_values_config(tmp_path: Path) -> Config:
    """values.yaml's extraConfig as the hub runs it, with the kit's hub module and a members
    file written by members.py."""
    members = tmp_path / "members.json"
    subprocess.run([sys.executable, str(MEMBERS_SCRIPT), str(write_cohorts(tmp_path)),
                    "--output", str(members)], check=True)
    code = yaml.safe_load(VALUES.read_text())["hub"]["extraConfig"]["10-privacy-course"]
    code = code.replace("/usr/local/etc/privacy-course", str(DEPLOY / "hub"))
    code = code.replace("/etc/privacy-course/members/members.json", str(members))
    c = Config()
    c.JupyterHub.services, c.JupyterHub.load_roles = [], []  # as z2jh's own config leaves them
    exec(compile(code, "extraConfig", "exec"), {"c": c})
    return c


def test_values_hook_gives_each_user_a_uid_and_only_facilitators_the_course(
        tmp_path: Path) -> None:
    from kubespawner import KubeSpawner

    c = run_values_config(tmp_path)
    assert set(c.JupyterHub.load_groups) == {"nbgrader-spring-2027", "formgrade-spring-2027"}
    assert c.Authenticator.username_map["ann.avery@example.org"] == "aavery"
    assert c.JupyterHub.services[0]["name"] == "privacy-course-sync"
    hook = c.KubeSpawner.pre_spawn_hook
    facilitator = fake_spawner("formgrade-spring-2027", name="dana")
    hook(facilitator)
    ann, bo = fake_spawner("nbgrader-spring-2027", name="aavery"), fake_spawner(
        "nbgrader-spring-2027", name="bo")
    hook(ann)
    hook(bo)
    traits = KubeSpawner.class_traits(config=True)
    assert all(name in traits for name in vars(facilitator) if name not in ("user",
                                                                              "environment"))
    assert len({facilitator.uid, ann.uid, bo.uid}) == 3 and min(ann.uid, bo.uid) >= 200_000
    assert ann.uid == hub_module.stable_uid("aavery")  # the same at every spawn, on every hub
    assert (ann.gid, ann.supplemental_gids, ann.fs_gid) == (100, [], 100)
    assert ann.environment == {"PRIVACY_COURSE_ROLE": "learner",
                               "PRIVACY_COURSE_COHORT": "spring-2027"}
    assert ann.volume_mounts == [] and not hasattr(ann, "image")
    assert ann.extra_labels == {"privacy-course/role": "learner"}
    assert facilitator.image.startswith("registry.example.org/privacy-course-facilitator:")
    assert facilitator.gid == 2000 and facilitator.supplemental_gids == [2000]
    assert facilitator.environment["PRIVACY_COURSE_DB_URL"]["valueFrom"]["secretKeyRef"]
    assert [m["mountPath"] for m in facilitator.volume_mounts] == ["/srv/privacy-course"]
    assert facilitator.extra_labels == {"privacy-course/role": "facilitator"}


def test_uid_collisions_refuse_to_start() -> None:
    """Two hub names with one uid would share each other's files: the hub refuses to start."""
    hub_module.check_uids([f"staff{i}" for i in range(3000)])  # a district's staff: no clash
    seen: dict[int, str] = {}
    for i in range(1_000_000):
        name = f"u{i}"
        other = seen.setdefault(hub_module.stable_uid(name), name)
        if other != name:
            break
    with pytest.raises(hub_module.MembersError, match="get the same uid"):
        hub_module.check_uids([other, name])


def test_only_facilitators_reach_the_gradebook() -> None:
    policy = yaml.safe_load((DEPLOY / "kubernetes" / "network-policies.yaml").read_text())
    assert policy["kind"] == "NetworkPolicy" and policy["spec"]["policyTypes"] == ["Egress"]
    assert policy["spec"]["podSelector"]["matchLabels"] == {
        "component": "singleuser-server", "privacy-course/role": "facilitator"}
    assert policy["spec"]["egress"][0]["ports"] == [{"port": 5432, "protocol": "TCP"}]


# --- the images ----------------------------------------------------------------------------------

def dockerfile_stages() -> dict[str, dict]:
    """{stage: {"from": base, "copies": [sources]}} of the Dockerfile, in order."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    stages: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        words = line.split()
        if words and words[0] == "FROM":
            current = words[-1] if "AS" in words else words[1]
            stages[current] = {"from": words[1], "copies": []}
        elif words and words[0] == "COPY":
            stages[current]["copies"] += [w for w in words[1:-1] if not w.startswith("--")]
    return stages


def test_dockerfile_learner_image_has_no_instructor_tree() -> None:
    stages = dockerfile_stages()
    assert list(stages) == ["base", "facilitator", "learner"]  # learner: the default target
    instructor = {"modules", "source", "grader_config.py", "nbgrader_config.py"}
    assert not instructor & set(stages["base"]["copies"] + stages["learner"]["copies"])
    assert stages["learner"]["from"] == stages["facilitator"]["from"] == "base"
    assert instructor <= set(stages["facilitator"]["copies"])
    ignored = (DEPLOY / "image" / "Dockerfile.dockerignore").read_text().splitlines()
    for source in {s for stage in stages.values() for s in stage["copies"]}:
        assert (REPO / source).exists(), f"Dockerfile copies {source}, which does not exist"
        assert source.split("/")[0] not in ignored, f"{source} is excluded from the context"
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "--role learner --config-dir /etc/privacy-course/learner" in text
    assert "--role facilitator --config-dir /etc/privacy-course/facilitator" in text
    assert "--lab-overrides /usr/local/share/jupyter/lab/settings" in text
    assert "chmod 1777 /srv/nbgrader/exchange" in text and "bubblewrap" in text


def test_image_requirements_parse() -> None:
    from packaging.requirements import Requirement

    lines = [line.strip() for line in
             (DEPLOY / "image" / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    names = {Requirement(line).name for line in lines}
    assert names == {"jupyterhub", "psycopg"}


@pytest.mark.parametrize("image_role,hub_role,expected", [
    ("facilitator", "facilitator", "facilitator"), ("facilitator", "learner", "learner"),
    ("facilitator", "Facilitator", "learner"), ("learner", "facilitator", "learner"),
    ("", "facilitator", "learner"), ("learner", "", "learner")])
def test_entrypoint_role_comes_from_the_image(image_role: str, hub_role: str, expected: str,
                                              tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "PRIVACY_COURSE_IMAGE_ROLE": image_role,
           "PRIVACY_COURSE_ROLE": hub_role, "HOME": str(tmp_path),
           "PRIVACY_COURSE_ROOT": str(tmp_path / "course")}
    out = subprocess.run(["sh", str(entrypoint_here(tmp_path)), "sh", "-c",
                          'echo "$JUPYTER_CONFIG_DIR $PRIVACY_COURSE_ROLE"'],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == f"/etc/privacy-course/{expected} {expected}"
    assert (tmp_path / "course" / "grader_config.py").is_file() == (expected == "facilitator")


def entrypoint_here(tmp_path: Path) -> Path:
    """The image's entrypoint, pointed at this repository's role script and Python."""
    script = (DEPLOY / "image" / "entrypoint.sh").read_text()
    script = script.replace("/usr/local/lib/privacy-course/configure_role.py", str(ROLE_SCRIPT))
    script = script.replace("python ", f"{sys.executable} ")
    script = script.replace("--from /opt/privacy-course", f"--from {REPO}")
    entry = tmp_path / "entrypoint.sh"
    entry.write_text(script)
    entry.chmod(0o755)
    return entry


def test_entrypoint_names_a_uid_without_a_passwd_entry(tmp_path: Path) -> None:
    """Pods run as per-user uids that /etc/passwd does not know: Python's getpass (nbgrader,
    Jupyter) still gets a name, the hub user's."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.fail("needs root and setpriv (util-linux) to run as an unknown uid")
    tmp_path.chmod(0o755)
    for parent in tmp_path.parents:
        if parent == Path("/tmp"):
            break
        parent.chmod(parent.stat().st_mode | 0o005)
    uid = hub_module.stable_uid("aavery")
    out = subprocess.run(
        ["setpriv", f"--reuid={uid}", "--regid=100", "--clear-groups", "sh",
         str(entrypoint_here(tmp_path)), "/usr/bin/python3", "-c",
         "import getpass, os; print(os.getuid(), getpass.getuser())"],
        env={"PATH": os.environ["PATH"], "JUPYTERHUB_USER": "aavery"},
        capture_output=True, text=True, check=True).stdout
    assert out.split() == [str(uid), "aavery"], out


# --- the role configuration ------------------------------------------------------------------

def run_role(role: str, config_dir: Path) -> None:
    subprocess.run([sys.executable, str(ROLE_SCRIPT), "--role", role, "--config-dir",
                    str(config_dir), "--exchange", "/srv/ex"], check=True, cwd=REPO,
                   capture_output=True, text=True)


def load_server_config(config_dir: Path) -> Config:
    """The role's jupyter_server_config.py as the server runs it (restoring the umask a
    facilitator's config sets, so this test process keeps its own)."""
    umask = os.umask(0o022)
    try:
        config = load_py_config(config_dir / "jupyter_server_config.py")
        config.umask_set = os.umask(0o022)
    finally:
        os.umask(umask)
    return config


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
    # Nothing phones home, whatever the user's settings (they live in the home folder).
    server_py = load_server_config(config_dir)
    assert server_py.LabApp.news_url is None
    assert server_py.LabApp.check_for_updates_class.endswith("NeverCheckForUpdate")
    assert server_py.LabApp.extension_manager == "readonly"
    assert server_py.umask_set == 0o022  # a learner's umask is left alone
    from jupyterlab.labapp import LabApp

    assert {"news_url", "check_for_updates_class", "extension_manager"} <= set(
        LabApp.class_traits(config=True))
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
    server_py = load_server_config(config_dir)
    assert server_py.ServerApp.root_dir == str(tmp_path / "course")
    assert server_py.LabApp.user_settings_dir.startswith(os.path.expanduser("~"))
    assert server_py.LabApp.news_url is None
    assert server_py.umask_set == 0o007  # files other facilitators can write, no one else read
    nb = load_py_config(config_dir / "nbgrader_config.py")  # no cohort folder yet: still loads
    assert nb.CourseDirectory.course_id == "spring-2027"
    assert nb.CourseDirectory.groupshared is True


configure_role = import_from(ROLE_SCRIPT.parent, "configure_role")


def small_course(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ("grader_config.py", "nbgrader_config.py"):
        shutil.copy2(REPO / name, folder / name)
    for tree in ("modules", "source"):
        shutil.copytree(REPO / tree / MODULE, folder / tree / MODULE)
    return folder


def test_init_course_root_points_the_exchange(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    source = small_course(tmp_path / "image")
    dest = tmp_path / "srv" / "privacy-course"
    assert configure_role.init_course_root(dest, source) is True
    assert configure_role.init_course_root(dest, source) is False  # never overwrites
    monkeypatch.setenv("PRIVACY_COURSE_EXCHANGE", str(tmp_path / "exchange"))
    from privacy_course.config import load_config

    assert load_config(dest).Exchange.root == str(tmp_path / "exchange")


def test_upgrade_course_root_keeps_cohorts_and_the_previous_version(tmp_path: Path) -> None:
    dest = tmp_path / "srv" / "privacy-course"
    configure_role.init_course_root(dest, small_course(tmp_path / "v1"))
    new = small_course(tmp_path / "v2")
    notebook = new / "source" / MODULE / f"{MODULE}.ipynb"
    notebook.write_text(notebook.read_text().replace("Making the case", "Making the case (v2)"))
    (dest / "cohorts" / "spring").mkdir(parents=True)
    (dest / "cohorts" / "spring" / "cohort.json").write_text("{}")
    (dest / "rosters").mkdir()
    (dest / "rosters" / "spring.csv").write_text(ROSTER)
    with pytest.raises(SystemExit, match="spring"):
        configure_role.upgrade_course_root(dest, new)
    kept = configure_role.upgrade_course_root(dest, new, while_cohorts_run=True)
    assert "(v2)" in (dest / "source" / MODULE / f"{MODULE}.ipynb").read_text()
    assert "(v2)" not in (kept / "source" / MODULE / f"{MODULE}.ipynb").read_text()
    assert (dest / "cohorts" / "spring" / "cohort.json").is_file()
    assert (dest / "rosters" / "spring.csv").read_text() == ROSTER
    assert (dest / "grader_config.py").read_text().count(configure_role.HUB_MARK) == 1


def test_lab_overrides_keep_other_settings(tmp_path: Path) -> None:
    (tmp_path / "overrides.json").write_text(json.dumps(
        {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    path = configure_role.write_lab_overrides(tmp_path)
    data = json.loads(path.read_text())
    assert data["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}
    assert data["@jupyterlab/apputils-extension:notification"] == {
        "fetchNews": "false", "checkForUpdates": False}


# --- the installed layout, as two real Unix users ----------------------------------------------

LEARNER_UID_NAME, FACILITATOR_UID_NAME, TEST_GROUP = "pcdlearn", "pcdfacil", "pcdfacilitators"


@pytest.fixture
def two_users() -> tuple[str, str]:
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.fail("the layout test needs root and useradd (it runs as two Unix users)")
    for user in (LEARNER_UID_NAME, FACILITATOR_UID_NAME):
        if subprocess.run(["id", user], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "-M", "-s", "/bin/sh", user], check=True)
    yield LEARNER_UID_NAME, FACILITATOR_UID_NAME
    for user in (LEARNER_UID_NAME, FACILITATOR_UID_NAME):
        subprocess.run(["userdel", user], capture_output=True)
    subprocess.run(["groupdel", TEST_GROUP], capture_output=True)


def as_user(user: str, code: str) -> str:
    return subprocess.run(["runuser", "-u", user, "--", "/usr/bin/python3", "-c", code],
                          capture_output=True, text=True, check=True, cwd="/").stdout


@pytest.mark.slow
def test_installed_layout_keeps_answer_keys_from_learners(two_users: tuple[str, str],
                                                          tmp_path: Path) -> None:
    """deploy/littlest/install.sh on a clone of this repository: a learner's uid reads no
    answer key anywhere it put files and cannot rename a cohort's exchange folder; the
    facilitator's uid (in the facilitators' group) reads the keys."""
    learner, facilitator = two_users
    base = tmp_path / "machine"
    base.mkdir()
    for folder in (tmp_path, *tmp_path.parents):
        if folder == Path("/"):
            break
        folder.chmod(folder.stat().st_mode | 0o005)
    kit = copy_kit(base / "opt" / "privacy-course", [MODULE])
    user_env = base / "userenv"  # stands for /opt/tljh/user: this Python, with the course
    (user_env / "bin").mkdir(parents=True)
    (user_env / "bin" / "python").write_text(f"#!/bin/sh\nexec {sys.executable} \"$@\"\n")
    (user_env / "bin" / "python").chmod(0o755)
    (base / "tljh-config").mkdir()
    shutil.copy2("/etc/login.defs", base / "login.defs")
    paths = {"PRIVACY_COURSE_KIT": kit, "PRIVACY_COURSE_USER_ENV": user_env,
             "PRIVACY_COURSE_ETC": base / "etc", "PRIVACY_COURSE_ROOT": base / "srv/course",
             "PRIVACY_COURSE_EXCHANGE": base / "srv/exchange",
             "PRIVACY_COURSE_FACILITATORS_GROUP": TEST_GROUP,
             "PRIVACY_COURSE_TLJH_CONFIG": base / "tljh-config",
             "PRIVACY_COURSE_LOGIN_DEFS": base / "login.defs", "PRIVACY_COURSE_PIP_INSTALL": "0"}
    result = subprocess.run(["bash", str(kit / "deploy/littlest/install.sh")],
                            env=dict(os.environ, **{k: str(v) for k, v in paths.items()}),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    subprocess.run(["gpasswd", "-a", facilitator, TEST_GROUP], check=True, capture_output=True)
    link = base / "tljh-config" / "jupyterhub_config.d" / "privacy-course.py"
    assert link.resolve() == kit / "deploy/littlest/jupyterhub_config.py"
    assert "HOME_MODE\t0700" in (base / "login.defs").read_text()
    exchange = base / "srv/exchange"
    assert oct(exchange.stat().st_mode & 0o7777) == "0o1777"

    tops = [base / "opt", base / "etc", base / "srv", user_env]
    markers = key_markers(MODULE)
    seen = probe_result(as_user(learner, probe_code(tops, markers)))
    assert seen["found"] == [] and seen["read"] >= 5, seen  # it reads the role configuration
    assert str(kit) in seen["denied"] and str(base / "srv/course") in seen["denied"], seen
    keys = probe_result(as_user(facilitator, probe_code(tops, markers)))["found"]
    assert str(kit / "source" / MODULE / f"{MODULE}.ipynb") in keys
    assert str(base / "srv/course/source" / MODULE / f"{MODULE}.ipynb") in keys

    # A cohort's exchange folder, as nbgrader's release makes it, cannot be hijacked.
    as_user(facilitator, f"import os; os.makedirs({str(exchange / 'spring/outbound')!r})")
    tries = as_user(learner, "import os, shutil\n"
                    f"ex = {str(exchange)!r}\n"
                    "for name, attempt in (('rename', lambda: os.rename(ex + '/spring', "
                    "ex + '/evil')), ('delete', lambda: shutil.rmtree(ex + '/spring'))):\n"
                    "    try:\n        attempt(); print('ALLOWED', name)\n"
                    "    except OSError:\n        print('denied', name)\n"
                    "os.mkdir(ex + '/mine'); print('own folder ok')\n")
    assert tries.split("\n")[:3] == ["denied rename", "denied delete", "own folder ok"], tries
    # The role configuration is readable, not writable, by the learner.
    assert "denied" in as_user(learner, "try:\n"
                               f"    open({str(base / 'etc/learner/nbgrader_config.py')!r}, 'a')"
                               "\n    print('WRITABLE')\nexcept OSError:\n    print('denied')\n")


# --- grading's workers follow the cgroup, not the host -----------------------------------------

def cgroup_with(limit_cpu: float, limit_memory: int, name: str) -> tuple[Path, list[Path]]:
    """A real cgroup (v2, or v1's cpu and memory hierarchies) with these limits."""
    root = Path("/sys/fs/cgroup")
    if (root / "cgroup.controllers").is_file():  # v2
        folder = root / name
        folder.mkdir()
        (folder / "cpu.max").write_text(f"{int(limit_cpu * 100000)} 100000")
        (folder / "memory.max").write_text(str(limit_memory))
        return folder / "cgroup.procs", [folder]
    cpu, memory = root / "cpu" / name, root / "memory" / name
    cpu.mkdir()
    memory.mkdir()
    (cpu / "cpu.cfs_period_us").write_text("100000")
    (cpu / "cpu.cfs_quota_us").write_text(str(int(limit_cpu * 100000)))
    (memory / "memory.limit_in_bytes").write_text(str(limit_memory))
    return cpu / "cgroup.procs", [cpu, memory]


@pytest.mark.slow
@pytest.mark.parametrize("cpus,memory_mib,workers", [(1.0, 4096, 2), (1.5, 4096, 3),
                                                     (8.0, 900, 2)])
def test_grading_workers_follow_the_cgroup(cpus: float, memory_mib: int, workers: int) -> None:
    """A server with a 1-CPU quota on a bigger host gets 2 workers (cores + 1), 1.5 CPUs 3,
    and 900 MiB of memory caps any quota at 2 (400 MiB a worker)."""
    if os.geteuid() != 0:
        pytest.fail("making a cgroup needs root")
    name = f"privacy-course-test-{os.getpid()}-{workers}"
    procs, folders = cgroup_with(cpus, memory_mib * 2**20, name)
    try:
        mem_procs = [f / "cgroup.procs" for f in folders]
        code = "from privacy_course.grading.autograde import default_workers; " \
               "print(default_workers())"
        moves = "; ".join(f"echo $$ > {p}" for p in dict.fromkeys([procs, *mem_procs]))
        out = subprocess.run(["sh", "-c", f"{moves}; exec {sys.executable} -c '{code}'"],
                             capture_output=True, text=True, check=True).stdout
        cores = len(os.sched_getaffinity(0))
        assert int(out) == min(workers, cores + 1, max(1, memory_mib // 400)), out
    finally:
        for folder in folders:
            folder.rmdir()


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
