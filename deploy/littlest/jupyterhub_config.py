"""JupyterHub on one machine for the course: learners and facilitators are real Unix users.

Two ways to use this file (deploy/README.md, "One machine"); install.sh sets up either:

* The Littlest JupyterHub (TLJH): install.sh links it into /opt/tljh/config/jupyterhub_config.d/
  and `sudo tljh-config reload` loads it. TLJH keeps its own proxy (Traefik, TLS), authenticator
  and spawner; this file adds the course's members, groups, roles, limits and sync.
* A plain JupyterHub: `jupyterhub -f deploy/littlest/jupyterhub_config.py` with
  PRIVACY_COURSE_STANDALONE=1. It then also binds the hub to 127.0.0.1 only (put a TLS reverse
  proxy in front), and uses configurable-http-proxy and PAM (or another authenticator).

Runs on the hub's Python, 3.9 or later (TLJH uses the operating system's), with no course
package: the cohorts file and rosters are read by the course's own code in the users'
environment (deploy/hub/members.py via PRIVACY_COURSE_USER_PYTHON), and JSON comes back.

Who may sign in is exactly who is on a roster, a cohort's facilitators and the admins
(`allow_existing_users` is off). Each learner is in hub group nbgrader-<cohort>, each
facilitator in formgrade-<cohort>, the groups nbgrader's JupyterHubAuthPlugin reads; the sync
service (deploy/hub/privacy_course_hub.py) removes whoever left a roster, from the groups and
from the hub, at every start and every PRIVACY_COURSE_SYNC_INTERVAL seconds. At spawn time a
hook gives the facilitator's server (formgrader, create-assignment, the course folder, the
gradebook URL, more memory and CPU for grading) only to members of a formgrade- group.
"""

import os
import sys
from pathlib import Path

KIT = Path(__file__).resolve().parents[1]  # deploy/ of the course's clone
sys.path.insert(0, str(KIT / "hub"))
from privacy_course_hub import SYNC_SCOPES, course_role, load_members  # noqa: E402

c = get_config()  # noqa: F821
env = os.environ.get

COHORTS_FILE = Path(env("PRIVACY_COURSE_HUB_COHORTS", "/etc/privacy-course/cohorts.toml"))
USER_PYTHON = env("PRIVACY_COURSE_USER_PYTHON", "/opt/tljh/user/bin/python")
# Written by install.sh (configure_role.py): root-owned, read-only to users.
ROLE_CONFIG = env("PRIVACY_COURSE_ROLE_CONFIG", "/etc/privacy-course")
EXCHANGE = env("PRIVACY_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
COURSE_ROOT = env("PRIVACY_COURSE_ROOT", "/srv/privacy-course")
FACILITATORS_GROUP = env("PRIVACY_COURSE_FACILITATORS_GROUP", "facilitators")
UNDER_TLJH = Path("/opt/tljh/config").is_dir() and not env("PRIVACY_COURSE_STANDALONE")
# TLJH names the Unix user of hub user "dana" jupyter-dana; a plain hub uses the hub name.
UNIX_PREFIX = "jupyter-" if UNDER_TLJH else ""

os.environ.setdefault("PRIVACY_COURSE_USER_PYTHON", USER_PYTHON)
MEMBERS = load_members(COHORTS_FILE, USER_PYTHON)

# --- who may sign in, and as whom ---------------------------------------------------------------
c.JupyterHub.load_groups = MEMBERS.groups()
# Admins from the cohorts file, and any TLJH already has (`tljh-config add-item users.admin`).
ADMINS = set(MEMBERS.admins) | set(c.Authenticator.admin_users
                                   if "admin_users" in c.Authenticator else ())
c.Authenticator.admin_users = ADMINS
c.Authenticator.allowed_users = MEMBERS.everyone() | ADMINS
# Off: with it on, anyone who ever signed in could go on doing so after leaving the roster.
c.Authenticator.allow_existing_users = False
# Sign-in names (a roster's emails, the cohorts file's [sign_in]) to hub names (roster ids).
# JupyterHub lower-cases the name an authenticator returns, then looks it up here.
c.Authenticator.username_map = MEMBERS.sign_in

# A user's server token may read the user's own groups: JupyterHubAuthPlugin asks the hub which
# courses the user is in. The first three are JupyterHub's defaults.
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "read:users:name!user",
    "read:users:groups!user",
]

# --- the sync service: the hub's users and groups follow the rosters, both ways ----------------
c.JupyterHub.services = [{
    "name": "privacy-course-sync",
    "command": [sys.executable, str(KIT / "hub" / "privacy_course_hub.py"), "sync",
                str(COHORTS_FILE), "--interval", env("PRIVACY_COURSE_SYNC_INTERVAL", "300"),
                "--unix-group", FACILITATORS_GROUP, "--unix-prefix", UNIX_PREFIX],
    "environment": {"PRIVACY_COURSE_USER_PYTHON": USER_PYTHON,
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin") + ":/usr/sbin:/sbin"},
}]
c.JupyterHub.load_roles = [{"name": "privacy-course-sync", "scopes": SYNC_SCOPES,
                            "services": ["privacy-course-sync"]}]
# Monitoring: /hub/metrics (Prometheus) answers a token with read:metrics only.
METRICS_TOKEN = Path(env("PRIVACY_COURSE_METRICS_TOKEN_FILE", "/etc/privacy-course/metrics-token"))
if METRICS_TOKEN.is_file():
    c.JupyterHub.services.append({"name": "monitoring",
                                  "api_token": METRICS_TOKEN.read_text().strip()})
    c.JupyterHub.load_roles.append({"name": "monitoring", "scopes": ["read:metrics"],
                                    "services": ["monitoring"]})

if UNDER_TLJH:
    # TLJH's own way to put Unix users in groups at spawn (the sync takes leavers out again):
    # facilitators may read the instructor tree and the course folder.
    c.UserCreatingSpawner.user_groups.update({FACILITATORS_GROUP: sorted(MEMBERS.facilitators())})

# --- per-user limits -----------------------------------------------------------------------------
# Measured: a learner's server plus one module kernel peaks at about 240 MiB RSS
# (deploy/README.md, "Sizing"). 1 GiB leaves room for three open notebooks. Facilitators grade
# in their own server: 2 CPUs and 4 GiB (grading's workers follow the cgroup's quota).
# SystemdSpawner enforces the limits with cgroups; LocalProcessSpawner only passes them on.
LEARNER_LIMITS = (env("PRIVACY_COURSE_MEM_LIMIT", "1G"),
                  float(env("PRIVACY_COURSE_CPU_LIMIT", "1")))
FACILITATOR_LIMITS = (env("PRIVACY_COURSE_FACILITATOR_MEM_LIMIT", "4G"),
                      float(env("PRIVACY_COURSE_FACILITATOR_CPU_LIMIT", "2")))
c.Spawner.mem_limit, c.Spawner.cpu_limit = LEARNER_LIMITS
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
c.SystemdSpawner.isolate_tmp = True
c.SystemdSpawner.isolate_devices = True
c.SystemdSpawner.disable_user_sudo = True


# --- the role switch -----------------------------------------------------------------------------
def role_environment(group_names):
    """The environment that makes a user's server a learner's or a facilitator's Lab."""
    role, cohort = course_role(group_names)
    environment = {
        "PRIVACY_COURSE_ROLE": role,
        "JUPYTER_CONFIG_DIR": f"{ROLE_CONFIG}/{role}",
        "PRIVACY_COURSE_EXCHANGE": EXCHANGE,
    }
    if cohort:
        environment["PRIVACY_COURSE_COHORT"] = cohort
    if role == "facilitator":
        environment["PRIVACY_COURSE_ROOT"] = COURSE_ROOT
        # The gradebook template (PostgreSQL) goes to facilitators only, never to learners.
        if env("PRIVACY_COURSE_DB_URL"):
            environment["PRIVACY_COURSE_DB_URL"] = env("PRIVACY_COURSE_DB_URL")
    return environment


def pre_spawn_hook(spawner):
    environment = role_environment(g.name for g in spawner.user.groups)
    spawner.environment.update(environment)
    if not UNDER_TLJH:
        # The users' environment's commands (jupyterhub-singleuser, privacy-course, alembic).
        spawner.environment["PATH"] = f"{Path(USER_PYTHON).parent}:/usr/bin:/bin"
    limits = FACILITATOR_LIMITS if environment["PRIVACY_COURSE_ROLE"] == "facilitator" \
        else LEARNER_LIMITS
    spawner.mem_limit, spawner.cpu_limit = limits


c.Spawner.pre_spawn_hook = pre_spawn_hook
# Everyone opens on the course home (the module pages, privacy_course.learner.pages);
# JupyterLab, with the Assignments tab and the facilitator's tools, is one link away (/lab).
c.Spawner.default_url = "/privacy-course/"

if not UNDER_TLJH:
    # --- a plain JupyterHub on this machine (TLJH sets all of this itself) ----------------------
    # Never exposed directly: a TLS reverse proxy (Caddy, nginx) forwards https://hub.example.org
    # to 127.0.0.1:8000 (with websocket upgrade). The hub's API stays on 127.0.0.1.
    c.JupyterHub.bind_url = env("PRIVACY_COURSE_BIND_URL", "http://127.0.0.1:8000")
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = int(env("PRIVACY_COURSE_HUB_PORT", "8081"))
    c.ConfigurableHTTPProxy.command = [env("PRIVACY_COURSE_PROXY_COMMAND",
                                           "configurable-http-proxy")]
    c.ConfigurableHTTPProxy.api_url = env("PRIVACY_COURSE_PROXY_API_URL", "http://127.0.0.1:8001")
    # Real Unix users (`useradd -m <id>` for each hub name), PAM passwords by default.
    c.JupyterHub.spawner_class = env("PRIVACY_COURSE_SPAWNER", "systemdspawner")
    c.Spawner.cmd = [str(Path(USER_PYTHON).parent / "jupyterhub-singleuser")]
    c.JupyterHub.authenticator_class = env("PRIVACY_COURSE_AUTHENTICATOR", "pam")
    if c.JupyterHub.authenticator_class == "shared-password":
        # A short pilot only: one password for everyone, set outside this file.
        c.SharedPasswordAuthenticator.user_password = os.environ["PRIVACY_COURSE_SHARED_PASSWORD"]
    STATE = Path(env("PRIVACY_COURSE_HUB_STATE", "/srv/jupyterhub"))
    c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
