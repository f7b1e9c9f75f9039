"""Write the Jupyter configuration of a learner's or a facilitator's server on a hub.

    python configure_role.py --role learner     --config-dir /etc/privacy-course/learner
    python configure_role.py --role facilitator --config-dir /etc/privacy-course/facilitator
    python configure_role.py --init-course-root /srv/privacy-course --from /opt/privacy-course
    python configure_role.py --upgrade-course-root /srv/privacy-course --from /opt/privacy-course
    python configure_role.py --lab-overrides /opt/tljh/user/share/jupyter/lab/settings

The image runs the first two at build time, so both folders are owned by root and a learner
cannot edit them; the hub picks one per user by setting JUPYTER_CONFIG_DIR (the entrypoint maps
PRIVACY_COURSE_ROLE to it). The Lab part is privacy_course.start's own: a learner's Lab has
nbgrader's formgrader, create-assignment and course-list disabled *and locked*, and their server
extensions off; a facilitator's has everything on. The nbgrader part is read when the server
starts, from the environment the hub sets per user:

    PRIVACY_COURSE_COHORT     the cohort (nbgrader course id) the user belongs to
    PRIVACY_COURSE_EXCHANGE   the shared exchange folder (default /srv/nbgrader/exchange)
    PRIVACY_COURSE_ROOT       facilitators: the shared course folder (default /srv/privacy-course)
    JUPYTERHUB_USER           set by JupyterHub: the learner's id in the exchange
    JUPYTERHUB_API_TOKEN      set by JupyterHub: turns on nbgrader's JupyterHubAuthPlugin, which
                              shows a user only the courses of their hub groups
                              (nbgrader-<cohort>, formgrade-<cohort>)

The third form, run by the entrypoint for facilitators, copies the course (modules, source,
release, grader_config.py) to the shared course folder the first time, and points its exchange
at PRIVACY_COURSE_EXCHANGE. It never overwrites an existing course folder: the fourth form does
that on purpose (a new version of the course), keeping cohorts/, reports/ and rosters/, and
keeping the replaced version beside it in .previous/ to roll back to. It refuses while a cohort
exists unless --while-cohorts-run is given: every cohort grades against the one source/, and
nbgrader cannot regrade a module whose graded cells changed after learners submitted.

The fifth writes JupyterLab's overrides.json into an environment's app settings folder (news and
update check off for every user, whatever their own settings say).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

from privacy_course.start import write_lab_config

ROLES = ("learner", "facilitator")
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
DEFAULT_COURSE_ROOT = "/srv/privacy-course"
COURSE_ITEMS = ("modules", "source", "release", "grader_config.py", "nbgrader_config.py")
PREVIOUS = ".previous"
# JupyterLab's defaults for every user of an environment (app settings overrides.json).
LAB_OVERRIDES = {"@jupyterlab/apputils-extension:notification":
                 {"fetchNews": "false", "checkForUpdates": False}}
HUB_MARK = "# --- on the hub (appended by deploy/image/configure_role.py) ---"

NBGRADER_CONFIG = '''\
# Written by deploy/image/configure_role.py for the {role}'s server; read at server start.
import os
from pathlib import Path

c = get_config()  # noqa: F821
cohort = os.environ.get("PRIVACY_COURSE_COHORT", "privacy-course")
c.CourseDirectory.course_id = cohort
c.Exchange.root = os.environ.get("PRIVACY_COURSE_EXCHANGE", {exchange!r})
# Several cohorts share one exchange (without this a second cohort's fetch fails).
c.Exchange.path_includes_course = True
# A handed-in folder readable only by its learner and the facilitators (nbgrader: everyone).
c.ExchangeFactory.submit = "privacy_course.grading.intake.PrivateSubmit"
# Files nbgrader writes are group-writable, so several facilitators (one Unix group) share a
# cohort's folders.
c.CourseDirectory.groupshared = True
if os.environ.get("JUPYTERHUB_API_TOKEN"):
    # Only the courses of the user's hub groups nbgrader-<cohort> / formgrade-<cohort>.
    c.Authenticator.plugin_class = "nbgrader.auth.JupyterHubAuthPlugin"
'''

LEARNER_EXTRA = '''\
if os.environ.get("JUPYTERHUB_USER"):
    # Every pod on Kubernetes runs as the same Unix user: submit under the hub user name.
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]
'''

FACILITATOR_EXTRA = '''\
root = Path(os.environ.get("PRIVACY_COURSE_ROOT", {root!r}))
if (root / "cohorts" / cohort / "cohort.json").is_file():
    # The cohort exists (privacy-course cohort create): its folders, gradebook and settings.
    from privacy_course.facilitator.cohort import Cohort

    c.merge(Cohort(root, cohort).config())
'''

SERVER_CONFIG = '''\
# Written by deploy/image/configure_role.py. This folder is read-only (owned by root), so the
# Lab keeps the user's own settings and workspaces in their home.
import os

c = get_config()  # noqa: F821
lab = os.path.join(os.path.expanduser("~"), ".jupyter", "lab")
c.LabApp.user_settings_dir = os.path.join(lab, "user-settings")
c.LabApp.workspaces_dir = os.path.join(lab, "workspaces")
# Nothing phones home, whatever a user's own settings say: the server never fetches
# JupyterLab's news or checks for a new version, and the extension manager only lists what is
# installed (it would otherwise search PyPI).
c.LabApp.news_url = None
c.LabApp.check_for_updates_class = "jupyterlab.handlers.announcements.NeverCheckForUpdate"
c.LabApp.extension_manager = "readonly"
# A spare warmed kernel opens module pages sooner but holds about 170 MiB per learner all the
# time, and memory per learner is what limits a hub (deploy/README.md, "Sizing"): none unless
# the hub's spawner sets PRIVACY_COURSE_SPARE_KERNELS (then plan 170 MiB more per learner).
c.PooledKernelManager.spare_kernels = int(os.environ.get("PRIVACY_COURSE_SPARE_KERNELS", "0"))
'''

FACILITATOR_SERVER_EXTRA = '''\
# The facilitator's Lab opens on the shared course folder (cohorts/, reports/ live there).
c.ServerApp.root_dir = os.environ.get("PRIVACY_COURSE_ROOT", {root!r})
# What a facilitator's server and kernels write (gradebooks, cohort folders) is writable by the
# other facilitators (the course folder's group) and by no one else.
os.umask(0o007)
'''


def configure(role: str, config_dir: Path, exchange: str = DEFAULT_EXCHANGE,
              course_root: str = DEFAULT_COURSE_ROOT) -> None:
    """Write one role's Jupyter configuration folder."""
    if role not in ROLES:
        raise SystemExit(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    facilitator = role == "facilitator"
    write_lab_config(config_dir, facilitator=facilitator)
    text = NBGRADER_CONFIG.format(role=role, exchange=exchange)
    text += FACILITATOR_EXTRA.format(root=course_root) if facilitator else LEARNER_EXTRA
    (config_dir / "nbgrader_config.py").write_text(text, encoding="utf-8")
    server = SERVER_CONFIG + (FACILITATOR_SERVER_EXTRA.format(root=course_root)
                              if facilitator else "")
    (config_dir / "jupyter_server_config.py").write_text(server, encoding="utf-8")


def _copy_course(dest: Path, source: Path) -> None:
    """The course's items from `source` (a clone, the image) into `dest`, pointed at the hub's
    exchange."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in COURSE_ITEMS:
        item = source / name
        if item.is_dir():
            shutil.copytree(item, dest / name, dirs_exist_ok=True)
        elif item.is_file():
            shutil.copy2(item, dest / name)
    config = dest / "grader_config.py"
    config.write_text(config.read_text(encoding="utf-8") + f"\n{HUB_MARK}\n"
                      f'c.Exchange.root = os.environ.get("PRIVACY_COURSE_EXCHANGE", '
                      f'{DEFAULT_EXCHANGE!r})\n', encoding="utf-8")


def init_course_root(dest: Path, source: Path) -> bool:
    """Copy the course to the shared course folder once; False if it was already there."""
    if (dest / "grader_config.py").is_file():
        return False
    _copy_course(dest, source)
    return True


def running_cohorts(dest: Path) -> list[str]:
    return sorted(p.parent.name for p in (dest / "cohorts").glob("*/cohort.json"))


def upgrade_course_root(dest: Path, source: Path, while_cohorts_run: bool = False) -> Path:
    """Replace the course in `dest` with the one in `source`; cohorts, reports and rosters stay.
    The replaced course goes to dest/.previous/<UTC time>/ (returned) to roll back to."""
    if not (dest / "grader_config.py").is_file():
        raise SystemExit(f"{dest} holds no course yet: use --init-course-root")
    cohorts = running_cohorts(dest)
    if cohorts and not while_cohorts_run:
        raise SystemExit(
            f"{dest}: cohort(s) {', '.join(cohorts)} exist and grade against this course's "
            "source/; upgrade after they are purged, or give --while-cohorts-run if the new "
            "version changes only text (not which cells are graded)")
    kept = dest / PREVIOUS / datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    kept.mkdir(parents=True)
    for name in COURSE_ITEMS:
        if (dest / name).exists():
            shutil.move(str(dest / name), str(kept / name))
    _copy_course(dest, source)
    return kept


def write_lab_overrides(settings_dir: Path) -> Path:
    """JupyterLab's overrides.json in an environment's app settings folder (every user)."""
    settings_dir.mkdir(parents=True, exist_ok=True)
    path = settings_dir / "overrides.json"
    current = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    for plugin, values in LAB_OVERRIDES.items():
        current.setdefault(plugin, {}).update(values)
    path.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    path.chmod(0o644)
    return path


def describe(config_dir: Path) -> dict:
    """What a Lab with this configuration folder shows (for checks and `--show`)."""
    page = json.loads((config_dir / "labconfig" / "page_config.json").read_text())
    server = json.loads((config_dir / "jupyter_server_config.json").read_text())
    return {"disabled": sorted(page.get("disabledExtensions", {})),
            "locked": sorted(page.get("lockedExtensions", {})),
            "server_extensions": server["ServerApp"]["jpserver_extensions"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=ROLES)
    parser.add_argument("--config-dir", type=Path)
    parser.add_argument("--exchange", default=DEFAULT_EXCHANGE)
    parser.add_argument("--course-root", default=DEFAULT_COURSE_ROOT)
    parser.add_argument("--init-course-root", type=Path, metavar="DEST")
    parser.add_argument("--upgrade-course-root", type=Path, metavar="DEST")
    parser.add_argument("--while-cohorts-run", action="store_true")
    parser.add_argument("--lab-overrides", type=Path, metavar="SETTINGS_DIR",
                        help="write overrides.json (news, update check off) into this folder")
    parser.add_argument("--from", dest="source", type=Path, default=Path("/opt/privacy-course"))
    parser.add_argument("--show", action="store_true", help="print what the Lab will show")
    args = parser.parse_args(argv)
    if args.init_course_root:
        made = init_course_root(args.init_course_root, args.source)
        print(f"course folder {args.init_course_root}: {'created' if made else 'kept'}")
    if args.upgrade_course_root:
        kept = upgrade_course_root(args.upgrade_course_root, args.source, args.while_cohorts_run)
        print(f"course folder {args.upgrade_course_root}: upgraded; the previous version is "
              f"in {kept}")
    if args.lab_overrides:
        print(f"wrote {write_lab_overrides(args.lab_overrides)}")
    if args.role:
        if not args.config_dir:
            parser.error("--role needs --config-dir")
        configure(args.role, args.config_dir, args.exchange, args.course_root)
        if args.show:
            print(json.dumps(describe(args.config_dir), indent=1))
    elif not (args.init_course_root or args.upgrade_course_root or args.lab_overrides):
        parser.error("give --role and --config-dir, --init-course-root, --upgrade-course-root "
                     "or --lab-overrides")
    return 0


if __name__ == "__main__":
    sys.exit(main())
