"""JupyterHub on one machine for the course: learners and facilitators are real Unix users.

Two ways to use this file (deploy/README.md, "One machine"):

* The Littlest JupyterHub (TLJH): copy it to /opt/tljh/config/jupyterhub_config.d/privacy-course.py
  and run `sudo tljh-config reload`. TLJH keeps its own proxy (Traefik, TLS), authenticator and
  SystemdSpawner; this file only adds the course's groups, roles, limits and exchange.
* A plain JupyterHub: `jupyterhub -f deploy/littlest/jupyterhub_config.py`. It then also binds
  the hub to 127.0.0.1 only (put a TLS reverse proxy in front) and uses configurable-http-proxy.

Who is in which cohort comes from one TOML file (PRIVACY_COURSE_HUB_COHORTS, default
/etc/privacy-course/cohorts.toml):

    admins = ["it-admin"]                 # hub admins (not course roles)
    [cohorts.spring-2027]
    facilitators = ["dana"]               # hub group formgrade-spring-2027
    roster = "/srv/privacy-course/rosters/spring-2027.csv"  # its `id` column: hub user names
    learners = ["late-joiner"]            # optional, in addition to the roster

Each learner joins hub group nbgrader-<cohort> and each facilitator formgrade-<cohort>, the groups
nbgrader's JupyterHubAuthPlugin reads. At spawn time, a hook gives a user the facilitator's
server (formgrader, create-assignment, the course folder) only if they are in a formgrade- group;
everyone else gets the learner's server, with those tools disabled and locked.
"""

import csv
import os
import tomllib
from pathlib import Path

c = get_config()  # noqa: F821

COHORTS_FILE = Path(os.environ.get("PRIVACY_COURSE_HUB_COHORTS",
                                   "/etc/privacy-course/cohorts.toml"))
# Written by `configure_role.py --role ... --config-dir ...` (root-owned, read-only to users).
ROLE_CONFIG = os.environ.get("PRIVACY_COURSE_ROLE_CONFIG", "/etc/privacy-course")
EXCHANGE = os.environ.get("PRIVACY_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
COURSE_ROOT = os.environ.get("PRIVACY_COURSE_ROOT", "/srv/privacy-course")
UNDER_TLJH = Path("/opt/tljh/config").is_dir() and not os.environ.get("PRIVACY_COURSE_STANDALONE")


def read_cohorts(path: Path) -> tuple[dict, list[str]]:
    """{cohort: {"learners": [...], "facilitators": [...]}} and the hub admins."""
    if not path.is_file():
        return {}, []
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    cohorts = {}
    for name, spec in data.get("cohorts", {}).items():
        learners = list(spec.get("learners", []))
        roster = spec.get("roster")
        if roster:
            with open(roster, newline="", encoding="utf-8") as f:
                learners += [row["id"].strip() for row in csv.DictReader(f) if row.get("id")]
        cohorts[name] = {"learners": sorted(set(learners)),
                         "facilitators": sorted(set(spec.get("facilitators", [])))}
    return cohorts, list(data.get("admins", []))


COHORTS, ADMINS = read_cohorts(COHORTS_FILE)

# --- groups: exactly the names nbgrader's JupyterHubAuthPlugin looks for -------------------------
groups = {}
for cohort, members in COHORTS.items():
    groups[f"nbgrader-{cohort}"] = {"users": members["learners"]}
    groups[f"formgrade-{cohort}"] = {"users": members["facilitators"]}
c.JupyterHub.load_groups = groups
c.Authenticator.allowed_users = {u for g in groups.values() for u in g["users"]} | set(ADMINS)
c.Authenticator.admin_users = set(ADMINS)

# A user's server token may read the user's own groups: JupyterHubAuthPlugin asks the hub which
# courses the user is in (GET /users/<name>). The first two are JupyterHub's defaults.
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "read:users:name!user",
    "read:users:groups!user",
]


# --- the role switch ---------------------------------------------------------------------
def course_role(group_names):
    """(role, cohort) for a user in these hub groups; facilitator wins over learner."""
    names = sorted(group_names)
    for name in names:
        if name.startswith("formgrade-"):
            return "facilitator", name.split("-", 1)[1]
    for name in names:
        if name.startswith("nbgrader-"):
            return "learner", name.split("-", 1)[1]
    return "learner", None


def role_environment(group_names):
    """The environment that makes a user's server a learner's or a facilitator's Lab."""
    role, cohort = course_role(group_names)
    env = {
        "PRIVACY_COURSE_ROLE": role,
        "JUPYTER_CONFIG_DIR": f"{ROLE_CONFIG}/{role}",
        "PRIVACY_COURSE_EXCHANGE": EXCHANGE,
    }
    if cohort:
        env["PRIVACY_COURSE_COHORT"] = cohort
    if role == "facilitator":
        env["PRIVACY_COURSE_ROOT"] = COURSE_ROOT
        # The gradebook template (PostgreSQL) goes to facilitators only, never to learners.
        if os.environ.get("PRIVACY_COURSE_DB_URL"):
            env["PRIVACY_COURSE_DB_URL"] = os.environ["PRIVACY_COURSE_DB_URL"]
    return env


def pre_spawn_hook(spawner):
    spawner.environment.update(role_environment(g.name for g in spawner.user.groups))


c.Spawner.pre_spawn_hook = pre_spawn_hook
# Everyone opens on the course home (the module pages, privacy_course.learner.pages);
# JupyterLab, with the Assignments tab and the facilitator's tools, is one link away (/lab).
c.Spawner.default_url = "/privacy-course/"

# --- per-user limits ---------------------------------------------------------------------
# Measured: a learner's server plus one module kernel peaks at about 240 MiB RSS
# (deploy/README.md, "Sizing"). 1 GiB leaves room for three open notebooks; SystemdSpawner
# enforces both limits with cgroups, LocalProcessSpawner only passes them on as MEM_LIMIT/CPU_LIMIT.
c.Spawner.mem_limit = os.environ.get("PRIVACY_COURSE_MEM_LIMIT", "1G")
c.Spawner.cpu_limit = float(os.environ.get("PRIVACY_COURSE_CPU_LIMIT", "1"))
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 60
c.SystemdSpawner.mem_limit = c.Spawner.mem_limit
c.SystemdSpawner.cpu_limit = c.Spawner.cpu_limit
c.SystemdSpawner.isolate_tmp = True
c.SystemdSpawner.isolate_devices = True
c.SystemdSpawner.disable_user_sudo = True

if not UNDER_TLJH:
    # --- a plain JupyterHub on this machine (TLJH sets all of this itself) ----------------------
    # Never exposed directly: a TLS reverse proxy (Caddy, nginx) forwards https://hub.example.org
    # to 127.0.0.1:8000 (with websocket upgrade). The hub's API stays on 127.0.0.1:8081.
    c.JupyterHub.bind_url = os.environ.get("PRIVACY_COURSE_BIND_URL", "http://127.0.0.1:8000")
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.ConfigurableHTTPProxy.command = ["configurable-http-proxy"]
    c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:8001"
    # Real Unix users (`useradd -m <id>` for each roster id and facilitator), PAM passwords.
    c.JupyterHub.spawner_class = os.environ.get("PRIVACY_COURSE_SPAWNER", "systemdspawner")
    c.JupyterHub.authenticator_class = os.environ.get("PRIVACY_COURSE_AUTHENTICATOR", "pam")
    if c.JupyterHub.authenticator_class == "shared-password":
        # A short pilot only: one password for everyone, set outside this file.
        c.SharedPasswordAuthenticator.user_password = os.environ["PRIVACY_COURSE_SHARED_PASSWORD"]
    c.JupyterHub.db_url = "sqlite:////srv/jupyterhub/jupyterhub.sqlite"
    c.JupyterHub.cookie_secret_file = "/srv/jupyterhub/jupyterhub_cookie_secret"
