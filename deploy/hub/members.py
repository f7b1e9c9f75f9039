"""Turn the cohorts file and its rosters into the hub's members file (JSON).

    python members.py /etc/privacy-course/cohorts.toml            # print the members
    python members.py /etc/privacy-course/cohorts.toml --output members.json

Runs with the course's Python (3.11 or later, the `privacy_course` package installed): the
rosters are read by the course's own roster reader, so the hub lets in exactly the people that
`privacy-course cohort create` puts in a cohort, under the same ids. The hub itself (Python 3.9
or later, no course package) reads only the JSON this writes (privacy_course_hub.py): on one
machine the hub runs this script at every start; on Kubernetes an administrator runs it and
stores the result as a Secret (deploy/README.md).

The cohorts file:

    admins = ["it-admin"]                      # hub admins: IT staff, never facilitators
    [sign_in]                                  # sign-in names of people on no roster
    "dana.smith@district.org" = "dana"
    [cohorts.spring-2027]
    facilitators = ["dana"]                    # hub names (ids)
    roster = "/srv/privacy-course/rosters/spring-2027.csv"
    learners = ["late-joiner"]                 # optional, beside the roster

Each roster row's `email` becomes a sign-in name mapped to the row's `id`: whoever signs in with
that address (Google, Entra ID) is that learner on the hub. Hub names must be lower case:
JupyterHub lower-cases every name at sign-in, so an id with capitals would never match.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

from privacy_course.coursedir import COHORT_NAME
from privacy_course.facilitator.roster import RosterError, read_roster

# A roster id (privacy_course.facilitator.roster.LEARNER_ID) that JupyterHub keeps as it is.
HUB_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")


class MembersError(ValueError):
    """The cohorts file or a roster cannot become hub members; lists every problem."""


def _names(value: object, where: str, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where} must be a list of hub names in quotes, e.g. [\"dana\"]")
        return []
    good = []
    for name in value:
        if HUB_NAME.match(name):
            good.append(name)
        else:
            problems.append(f"{where}: {name!r} is not a hub name (lower-case letters, digits, "
                            "'.', '_' and '-', at most 64, no spaces or @)")
    return good


def _roster_members(path: Path, cohort: str, problems: list[str],
                    sign_in: dict[str, str]) -> list[str]:
    try:
        learners = read_roster(path)
    except RosterError as exc:
        problems.append(f"cohort {cohort}: {exc}")
        return []
    ids = []
    for learner in learners:
        if not HUB_NAME.match(learner.id):
            problems.append(f"{path}: id {learner.id!r} has capital letters; JupyterHub "
                            "lower-cases every sign-in name, so this learner's work would "
                            f"not match the roster: use {learner.id.lower()!r}")
            continue
        ids.append(learner.id)
        if learner.email:
            known = sign_in.setdefault(learner.email, learner.id)
            if known != learner.id:
                problems.append(f"{path}: {learner.email} signs in as {learner.id!r} here but "
                                f"as {known!r} in another roster; one person, one id")
    return ids


def read_members(cohorts_file: Path) -> dict:
    """The members of the hub: admins, each cohort's learners and facilitators, and sign-in
    names mapped to hub names. Raises MembersError naming every problem at once."""
    try:
        data = tomllib.loads(cohorts_file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MembersError(f"{cohorts_file}: cannot be read ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise MembersError(f"{cohorts_file}: not valid TOML ({exc})") from exc
    problems: list[str] = []
    unknown = set(data) - {"admins", "sign_in", "cohorts"}
    if unknown:
        problems.append(f"unknown setting(s) {', '.join(sorted(unknown))}; expected admins, "
                        "sign_in and [cohorts.<name>] tables")
    admins = _names(data.get("admins", []), "admins", problems)
    sign_in: dict[str, str] = {}
    cohorts = {}
    for cohort, spec in (data.get("cohorts") or {}).items():
        where = f"cohorts.{cohort}"
        if not COHORT_NAME.match(cohort):
            problems.append(f"{where}: a cohort name has lower-case letters, digits and '-' "
                            "(at most 40), e.g. spring-2027")
            continue
        if not isinstance(spec, dict):
            problems.append(f"{where} must be a table ([{where}])")
            continue
        extra = set(spec) - {"facilitators", "learners", "roster"}
        if extra:
            problems.append(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        learners = _names(spec.get("learners", []), f"{where}.learners", problems)
        if spec.get("roster"):
            roster = Path(spec["roster"])
            if not roster.is_absolute():
                roster = cohorts_file.parent / roster
            learners += _roster_members(roster, cohort, problems, sign_in)
        facilitators = _names(spec.get("facilitators", []), f"{where}.facilitators", problems)
        if not facilitators:
            problems.append(f"{where}: no facilitators; a cohort needs at least one")
        if set(admins) & set(facilitators):
            problems.append(f"{where}: {', '.join(sorted(set(admins) & set(facilitators)))} "
                            "both admin and facilitator; hub admins can become root on one "
                            "machine, so keep the two apart")
        cohorts[cohort] = {"learners": sorted(set(learners)),
                           "facilitators": sorted(set(facilitators))}
    everyone = set(admins).union(*(set(c["learners"]) | set(c["facilitators"])
                                   for c in cohorts.values()))
    extra_sign_in = data.get("sign_in", {})
    if not isinstance(extra_sign_in, dict):
        problems.append("sign_in must be a table of \"sign-in name\" = \"hub name\"")
        extra_sign_in = {}
    for name, hub_name in extra_sign_in.items():
        if hub_name not in everyone:
            problems.append(f"sign_in: {name!r} maps to {hub_name!r}, who is in no cohort and "
                            "not an admin")
        elif name.lower() in everyone and name.lower() != hub_name:
            problems.append(f"sign_in: {name!r} is someone else's hub name; mapping it to "
                            f"{hub_name!r} would hand that account to another person")
        elif sign_in.setdefault(name.lower(), hub_name) != hub_name:
            problems.append(f"sign_in: {name!r} is already {sign_in[name.lower()]!r} in a roster")
    if problems:
        raise MembersError(f"{cohorts_file}: {len(problems)} problem(s), the hub was not "
                           "changed:\n  " + "\n  ".join(problems))
    return {"admins": sorted(admins), "cohorts": cohorts,
            "sign_in": {k: v for k, v in sorted(sign_in.items()) if k != v}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cohorts_file", type=Path)
    parser.add_argument("--output", type=Path, help="write here instead of printing")
    args = parser.parse_args(argv)
    try:
        members = read_members(args.cohorts_file)
    except MembersError as exc:
        print(exc, file=sys.stderr)
        return 2
    text = json.dumps(members, indent=1) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
