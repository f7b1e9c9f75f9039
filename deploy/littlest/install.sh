#!/usr/bin/env bash
# Puts the course on one machine (The Littlest JupyterHub, or a plain JupyterHub with real Unix
# users) so that a learner can reach only what a learner needs. Run as root from the clone:
#
#   sudo bash /opt/privacy-course/deploy/littlest/install.sh             # install, or re-apply
#   sudo bash /opt/privacy-course/deploy/littlest/install.sh --upgrade   # after `git pull`
#
# What it leaves (deploy/README.md, "One machine", has the table and the reasons):
#   the clone (the instructor tree: modules/, source/ with every answer key)  root:facilitators 0750
#   the course package, installed (not linked) into the users' environment    readable by all
#   /etc/privacy-course/{learner,facilitator}  each role's Jupyter configuration, root-owned
#   <users' environment>/share/jupyter/lab/settings/overrides.json  no news, no update check
#   /srv/privacy-course   the course folder (cohorts, gradebooks, reports)    root:facilitators 2770
#   /srv/nbgrader/exchange  nbgrader's exchange                               1777 (sticky)
#   HOME_MODE 0700 in /etc/login.defs: homes the hub creates are their owner's alone
#   under TLJH: the hub configuration linked into /opt/tljh/config/jupyterhub_config.d/
#
# Every path can be moved with an environment variable (the tests install into a scratch folder).
set -euo pipefail

KIT=${PRIVACY_COURSE_KIT:-$(cd "$(dirname "$0")/../.." && pwd)}
USER_ENV=${PRIVACY_COURSE_USER_ENV:-/opt/tljh/user}
ETC=${PRIVACY_COURSE_ETC:-/etc/privacy-course}
COURSE_ROOT=${PRIVACY_COURSE_ROOT:-/srv/privacy-course}
EXCHANGE=${PRIVACY_COURSE_EXCHANGE:-/srv/nbgrader/exchange}
GROUP=${PRIVACY_COURSE_FACILITATORS_GROUP:-facilitators}
TLJH_CONFIG=${PRIVACY_COURSE_TLJH_CONFIG:-/opt/tljh/config}
LOGIN_DEFS=${PRIVACY_COURSE_LOGIN_DEFS:-/etc/login.defs}
PIP_INSTALL=${PRIVACY_COURSE_PIP_INSTALL:-1}
UPGRADE=
for arg in "$@"; do
  case "$arg" in
    --upgrade) UPGRADE=1 ;;
    --while-cohorts-run) UPGRADE=2 ;;
    *) echo "install.sh: unknown option $arg (use --upgrade [--while-cohorts-run])" >&2; exit 2 ;;
  esac
done

say() { printf 'privacy-course: %s\n' "$*"; }
[ "$(id -u)" -eq 0 ] || { echo "install.sh: run as root (sudo)" >&2; exit 2; }
PY="$USER_ENV/bin/python"
[ -x "$PY" ] || { echo "install.sh: no Python at $PY; set PRIVACY_COURSE_USER_ENV" >&2; exit 2; }
command -v bwrap >/dev/null || say "warning: bubblewrap is missing (apt-get install bubblewrap); grading will refuse to start"
ROLE="$KIT/deploy/image/configure_role.py"

# 1. The facilitators' group: the only users, besides root, who may read the instructor tree.
groupadd -f "$GROUP"

# 2. The course package into the users' environment, as files of its own: learners run the
#    package from there and never need the clone.
if [ "$PIP_INSTALL" = 1 ]; then
  say "installing the course package into $USER_ENV"
  "$PY" -m pip install --quiet --no-cache-dir "$KIT[postgres]"
  rm -rf "$KIT/build"
fi

# 3. The clone holds every answer key (source/, modules/): root and facilitators only.
chown -R "root:$GROUP" "$KIT"
chmod -R u+rwX,g+rX,g-w,o-rwx "$KIT"

# 4. Each role's Jupyter configuration, root-owned so no user can unlock a tool.
for role in learner facilitator; do
  "$PY" "$ROLE" --role "$role" --config-dir "$ETC/$role" --exchange "$EXCHANGE" \
    --course-root "$COURSE_ROOT" >/dev/null
done
chown -R root:root "$ETC"
chmod 0755 "$ETC"
chmod -R a+rX,go-w "$ETC/learner" "$ETC/facilitator"
# The cohorts file names people; the hub (root) reads it, nobody else needs to.
[ ! -e "$ETC/cohorts.toml" ] || chmod 0600 "$ETC/cohorts.toml"

# 5. Nothing phones home: JupyterLab's defaults for every user of the environment. (The role
#    configuration also switches news and update checks off in the server itself.)
"$PY" "$ROLE" --lab-overrides "$USER_ENV/share/jupyter/lab/settings" >/dev/null

# 6. The course folder: cohorts, gradebooks (SQLite), submissions, reports. Facilitators share
#    it through the group (setgid folders; their servers run with umask 007).
if [ -n "$UPGRADE" ] && [ -e "$COURSE_ROOT/grader_config.py" ]; then
  extra=(); [ "$UPGRADE" = 2 ] && extra=(--while-cohorts-run)
  "$PY" "$ROLE" --upgrade-course-root "$COURSE_ROOT" --from "$KIT" "${extra[@]}"
else
  "$PY" "$ROLE" --init-course-root "$COURSE_ROOT" --from "$KIT"
fi
mkdir -p "$COURSE_ROOT/rosters" "$COURSE_ROOT/reports"
chgrp -R "$GROUP" "$COURSE_ROOT"
chmod -R u+rwX,g+rwX,o-rwx "$COURSE_ROOT"
find "$COURSE_ROOT" -type d -exec chmod g+s {} +

# 7. nbgrader's exchange: everyone may create a cohort's folder, nobody may rename or replace
#    another's (the sticky bit). nbgrader and `privacy-course release` set the folders below.
mkdir -p "$EXCHANGE"
chown root:root "$EXCHANGE"
chmod 1777 "$EXCHANGE"

# 8. Homes the hub creates from now on: their owner's alone (Debian's default lets others read).
if [ -f "$LOGIN_DEFS" ]; then
  if grep -qE '^[[:space:]]*HOME_MODE' "$LOGIN_DEFS"; then
    sed -i -E 's/^[[:space:]]*HOME_MODE.*/HOME_MODE\t0700/' "$LOGIN_DEFS"
  else
    printf 'HOME_MODE\t0700\n' >> "$LOGIN_DEFS"
  fi
fi

# 9. Under TLJH: the hub configuration, linked so that `git pull` + reload updates it.
if [ -d "$TLJH_CONFIG" ]; then
  mkdir -p "$TLJH_CONFIG/jupyterhub_config.d"
  ln -sfn "$KIT/deploy/littlest/jupyterhub_config.py" \
    "$TLJH_CONFIG/jupyterhub_config.d/privacy-course.py"
fi

# 10. The cohorts file, checked now rather than at the hub's next start.
if [ -e "$ETC/cohorts.toml" ]; then
  "$PY" "$KIT/deploy/hub/members.py" "$ETC/cohorts.toml" >/dev/null
  say "cohorts file $ETC/cohorts.toml: OK"
else
  say "next: write $ETC/cohorts.toml (deploy/README.md, step 4), then reload the hub"
fi
say "installed (kit $KIT, course folder $COURSE_ROOT, exchange $EXCHANGE)"
