#!/bin/sh
# Starts the command (the hub's `jupyterhub-singleuser`) with the role's read-only Jupyter
# configuration, baked into the image by configure_role.py. The image decides the role
# (PRIVACY_COURSE_IMAGE_ROLE, set at build): the learner's image has no instructor tree and
# never becomes a facilitator's, whatever the hub says. In the facilitator's image the hub must
# also say facilitator (PRIVACY_COURSE_ROLE); anything else there is a learner as well.
set -eu
role=learner
if [ "${PRIVACY_COURSE_IMAGE_ROLE:-learner}" = facilitator ] \
   && [ "${PRIVACY_COURSE_ROLE:-learner}" = facilitator ]; then
  role=facilitator
fi
# Every pod runs as a uid of its own, with no entry in /etc/passwd: name the process's user
# after the hub user, so that tools asking "who am I" (getpass) get an answer.
if ! id -un >/dev/null 2>&1; then
  export USER="${JUPYTERHUB_USER:-jovyan}" LOGNAME="${JUPYTERHUB_USER:-jovyan}"
fi
export HOME="${HOME:-/home/jovyan}"
if [ "$role" = facilitator ]; then
  # The shared course folder (cohorts, gradebooks on SQLite, reports) is filled on first use.
  python /usr/local/lib/privacy-course/configure_role.py \
    --init-course-root "${PRIVACY_COURSE_ROOT:-/srv/privacy-course}" --from /opt/privacy-course
fi
export JUPYTER_CONFIG_DIR="/etc/privacy-course/$role"
export PRIVACY_COURSE_ROLE="$role"
exec "$@"
