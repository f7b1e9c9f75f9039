"""The course's side of JupyterHub: who may sign in, cohort groups, roles, and the sync that
keeps the hub equal to the rosters. Used by deploy/littlest/jupyterhub_config.py (one machine)
and by the extraConfig of deploy/kubernetes/values.yaml.

Standard library only, and Python 3.9 or later: this runs in the hub's own environment, which is
the operating system's Python under The Littlest JupyterHub (3.9 on Debian 11, 3.10 on Ubuntu
22.04) and has no course package. The members it reads are written by members.py, which runs
with the course's Python and its roster reader:

* one machine: `members_source` is the cohorts file (.toml); it is turned into members by
  running members.py with the users' environment's Python (PRIVACY_COURSE_USER_PYTHON);
* Kubernetes: `members_source` is the members file (.json) an administrator wrote with
  members.py and stored as a Secret.

The sync (`python privacy_course_hub.py sync`, a service the hub starts) makes the hub's users
and groups exactly what the members say, both ways: JupyterHub's own `load_groups` only ever
adds. Someone taken off every roster is deleted from the hub (their server stops, their
sessions and tokens end; their files stay until the cohort is purged); someone taken out of a
cohort leaves its group, and their running server is stopped so that its next start has the
right role. `python privacy_course_hub.py check SOURCE` reports problems before a reload.
"""

from __future__ import annotations

import argparse
import grp
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
MEMBERS_SCRIPT = HERE / "members.py"
DEFAULT_USER_PYTHON = "/opt/tljh/user/bin/python"
LEARNER_PREFIX, FACILITATOR_PREFIX = "nbgrader-", "formgrade-"
# Scopes of the sync service's token: see, create and delete users and groups, stop servers.
SYNC_SCOPES = ["list:users", "read:users", "read:servers", "admin:users", "list:groups",
               "read:groups", "admin:groups", "groups", "servers"]
# Per-user uids on Kubernetes (deploy/README.md, "Exchange isolation"): a stable number per
# hub name, above the image's own users and below the 32-bit range NFS servers accept.
UID_BASE, UID_SPAN = 200_000, 1 << 30
log = logging.getLogger("privacy-course-sync")


class MembersError(RuntimeError):
    """The members cannot be read; the message says which file and what is wrong."""


class Members:
    """Admins, cohorts ({cohort: {"learners": [...], "facilitators": [...]}}) and sign-in
    names mapped to hub names, as members.py wrote them."""

    def __init__(self, data: dict) -> None:
        self.admins = set(data.get("admins", []))
        self.cohorts = data.get("cohorts", {})
        self.sign_in = dict(data.get("sign_in", {}))

    def groups(self) -> dict:
        """Hub groups, exactly the names nbgrader's JupyterHubAuthPlugin reads."""
        groups = {}
        for cohort, members in sorted(self.cohorts.items()):
            groups[LEARNER_PREFIX + cohort] = {"users": sorted(members["learners"])}
            groups[FACILITATOR_PREFIX + cohort] = {"users": sorted(members["facilitators"])}
        return groups

    def facilitators(self) -> set:
        return {n for c in self.cohorts.values() for n in c["facilitators"]}

    def everyone(self) -> set:
        """Every hub name that may sign in."""
        return self.admins.union(*(set(c["learners"]) | set(c["facilitators"])
                                   for c in self.cohorts.values()))


def load_members(source: Path, user_python: str | None = None) -> Members:
    """Members from a members .json file, or from a cohorts .toml file read by members.py
    with the course's Python (one machine). No file at all means no members yet."""
    source = Path(source)
    if not source.is_file():
        return Members({})
    if source.suffix == ".json":
        try:
            return Members(json.loads(source.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise MembersError(f"{source}: not a members file written by members.py "
                               f"({exc})") from exc
    python = user_python or os.environ.get("PRIVACY_COURSE_USER_PYTHON", DEFAULT_USER_PYTHON)
    try:
        result = subprocess.run([python, str(MEMBERS_SCRIPT), str(source)],
                                capture_output=True, text=True, timeout=120)
    except OSError as exc:
        raise MembersError(f"cannot run the course's Python {python} to read {source} "
                           f"({exc.strerror or exc}); set PRIVACY_COURSE_USER_PYTHON") from exc
    if result.returncode != 0:
        raise MembersError(result.stderr.strip() or f"members.py failed on {source}")
    return Members(json.loads(result.stdout))


def course_role(group_names) -> tuple:
    """(role, cohort) of a user in these hub groups; facilitator wins over learner, and
    anything else (no group, a typo) is a learner without a cohort."""
    names = sorted(group_names)
    for prefix, role in ((FACILITATOR_PREFIX, "facilitator"), (LEARNER_PREFIX, "learner")):
        for name in names:
            if name.startswith(prefix):
                return role, name[len(prefix):]
    return "learner", None


def stable_uid(name: str) -> int:
    """The Unix uid of a hub user's pod on Kubernetes: the same every time, for every hub."""
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    return UID_BASE + int.from_bytes(digest[:8], "big") % UID_SPAN


def check_uids(names) -> None:
    """Two hub names with one uid would share files: refuse to start rather than allow it."""
    seen: dict = {}
    for name in sorted(names):
        other = seen.setdefault(stable_uid(name), name)
        if other != name:
            raise MembersError(f"hub names {other!r} and {name!r} get the same uid "
                               f"{stable_uid(name)}; give one of them another id")


# --- the sync ---------------------------------------------------------------------------------

class HubAPI:
    """JupyterHub's REST API with the service's own token (set by the hub for its services)."""

    def __init__(self, url: str | None = None, token: str | None = None) -> None:
        self.url = (url or os.environ["JUPYTERHUB_API_URL"]).rstrip("/")
        self.token = token or os.environ["JUPYTERHUB_API_TOKEN"]

    def call(self, method: str, path: str, body: object = None) -> object:
        request = urllib.request.Request(
            self.url + path, method=method,
            data=None if body is None else json.dumps(body).encode("utf-8"),
            headers={"Authorization": f"token {self.token}",
                     "Content-Type": "application/json",
                     "Accept": "application/jupyterhub-pagination+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode("utf-8")
        return json.loads(text) if text.strip() else None

    def listing(self, path: str) -> list:
        """Every item of a paginated list (users, groups)."""
        items, offset = [], 0
        while True:
            page = self.call("GET", f"{path}?offset={offset}&limit=200")
            if isinstance(page, list):  # a hub without pagination
                return page
            items += page["items"]
            following = (page.get("_pagination") or {}).get("next")
            if not following:
                return items
            offset = following["offset"]


def unix_group_members(group: str) -> set:
    try:
        return set(grp.getgrnam(group).gr_mem)
    except KeyError:
        return set()


def sync_unix_group(group: str, prefix: str, facilitators: set) -> dict:
    """One machine: the Unix group that may read the instructor tree holds exactly the
    current facilitators (TLJH's user_groups and `usermod` only ever add)."""
    wanted = {prefix + name for name in facilitators}
    have = unix_group_members(group)
    changes = {"unix_added": [], "unix_removed": []}
    for user in sorted(have - wanted):
        subprocess.run(["gpasswd", "-d", user, group], check=True, capture_output=True)
        changes["unix_removed"].append(user)
    for user in sorted(wanted - have):
        if subprocess.run(["id", user], capture_output=True).returncode == 0:
            subprocess.run(["gpasswd", "-a", user, group], check=True, capture_output=True)
            changes["unix_added"].append(user)
    return changes


def sync(api: HubAPI, members: Members, unix_group: str | None = None,
         unix_prefix: str = "") -> dict:
    """Make the hub's users and cohort groups exactly the members; return what changed."""
    wanted_groups = members.groups()
    everyone = members.everyone()
    report: dict = {"deleted": [], "added": {}, "removed": {}, "stopped": []}
    users = {u["name"]: u for u in api.listing("/users")}
    for name, user in sorted(users.items()):
        if name not in everyone and not user.get("admin"):
            api.call("DELETE", f"/users/{urllib.parse.quote(name)}")
            report["deleted"].append(name)
    stop = set()
    existing = {g["name"]: g for g in api.listing("/groups")}
    course_groups = {n for n in existing if n.startswith((LEARNER_PREFIX, FACILITATOR_PREFIX))}
    for name in sorted(course_groups | set(wanted_groups)):
        path = f"/groups/{urllib.parse.quote(name)}"
        if name not in existing:
            api.call("POST", path)
            have = set()
        else:
            have = set(existing[name].get("users", [])) - set(report["deleted"])
        want = set(wanted_groups.get(name, {"users": []})["users"])
        if want - have:
            api.call("POST", path + "/users", {"users": sorted(want - have)})
            report["added"][name] = sorted(want - have)
        if have - want:
            api.call("DELETE", path + "/users", {"users": sorted(have - want)})
            report["removed"][name] = sorted(have - want)
            stop |= have - want
    for name in sorted(stop - set(report["deleted"])):
        servers = (users.get(name) or {}).get("servers") or {}
        if name in users and (servers or users[name].get("server")):
            api.call("DELETE", f"/users/{urllib.parse.quote(name)}/server")
            report["stopped"].append(name)
    if unix_group:
        report.update(sync_unix_group(unix_group, unix_prefix, members.facilitators()))
    return report


def service(members_source: Path, interval: float, unix_group: str | None,
            unix_prefix: str) -> None:
    """The hub's sync service: once at start, then every `interval` seconds."""
    api = HubAPI()
    while True:
        try:
            members = load_members(members_source)
            report = sync(api, members, unix_group, unix_prefix)
            changed = {k: v for k, v in report.items() if v}
            log.info("in sync with %s%s", members_source,
                     f": {json.dumps(changed, sort_keys=True)}" if changed else "")
        except (MembersError, OSError, urllib.error.URLError, ValueError) as exc:
            # Nothing is changed on a bad file: the hub keeps its last good state.
            log.error("not synced: %s", exc)
        time.sleep(interval)


def main(argv: list | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="[%(name)s %(asctime)s] %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="read the members; print them or the problems")
    check.add_argument("source", type=Path)
    run = sub.add_parser("sync", help="the hub's sync service")
    run.add_argument("source", type=Path)
    run.add_argument("--interval", type=float, default=300.0)
    run.add_argument("--unix-group", help="one machine: the facilitators' Unix group")
    run.add_argument("--unix-prefix", default="", help="Unix user = prefix + hub name")
    args = parser.parse_args(argv)
    if args.command == "check":
        try:
            members = load_members(args.source)
        except MembersError as exc:
            print(exc, file=sys.stderr)
            return 2
        print(json.dumps({"admins": sorted(members.admins), "groups": members.groups(),
                          "sign_in": members.sign_in}, indent=1))
        return 0
    service(args.source, args.interval, args.unix_group, args.unix_prefix)
    return 0


if __name__ == "__main__":
    sys.exit(main())
