#!/bin/sh
# Picks the user's role (set per user by the hub: PRIVACY_COURSE_ROLE=learner|facilitator) and
# starts the command (the hub's `jupyterhub-singleuser`) with that role's read-only Jupyter
# configuration, baked into the image by configure_role.py. Anything but "facilitator" is a
# learner: a missing or mistyped role never shows the facilitator's tools.
set -eu
case "${PRIVACY_COURSE_ROLE:-learner}" in
  facilitator)
    role=facilitator
    # The shared course folder (cohorts, gradebooks on SQLite, reports) is filled on first use.
    python /opt/privacy-course/deploy/image/configure_role.py \
      --init-course-root "${PRIVACY_COURSE_ROOT:-/srv/privacy-course}" --from /opt/privacy-course
    ;;
  *) role=learner ;;
esac
export JUPYTER_CONFIG_DIR="/etc/privacy-course/$role"
export PRIVACY_COURSE_ROLE="$role"
exec "$@"
