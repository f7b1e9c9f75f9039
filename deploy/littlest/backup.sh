#!/usr/bin/env bash
# Backs up, or restores, everything a learner's record lives in on one machine (deploy/README.md,
# "Backups"): each cohort's gradebook (a consistent copy even while the hub runs), the course
# folder (cohorts' submissions, feedback, reports, rosters), the exchange, the learners' and
# facilitators' homes, and the hub's members (cohorts file). Run as root:
#
#   sudo bash deploy/littlest/backup.sh backup /var/backups/privacy-course
#   sudo bash deploy/littlest/backup.sh restore /var/backups/privacy-course/2027-01-15T0200Z
#
# A backup is a folder named by its UTC time, readable by root only; keep it encrypted at rest
# (an encrypted volume, or your backup tool's encryption) and no longer than the course's
# retention period. Restore with the hub stopped (`sudo systemctl stop jupyterhub`): it puts
# every file back where it was, with its owner and mode, and each gradebook whole.
# PostgreSQL gradebooks: back them up with pg_dump (deploy/README.md); this covers SQLite.
set -euo pipefail

ETC=${PRIVACY_COURSE_ETC:-/etc/privacy-course}
COURSE_ROOT=${PRIVACY_COURSE_ROOT:-/srv/privacy-course}
EXCHANGE=${PRIVACY_COURSE_EXCHANGE:-/srv/nbgrader/exchange}
HOMES=${PRIVACY_COURSE_HOMES:-/home/jupyter-*}
PY=${PRIVACY_COURSE_PYTHON:-python3}

usage() { echo "usage: backup.sh backup DEST_FOLDER | restore BACKUP_FOLDER" >&2; exit 2; }
[ $# -eq 2 ] || usage
[ "$(id -u)" -eq 0 ] || { echo "backup.sh: run as root (sudo)" >&2; exit 2; }

case "$1" in
  backup)
    umask 077
    dest="$2/$(date -u +%Y-%m-%dT%H%M%SZ)"
    mkdir -p "$dest/gradebooks"
    # SQLite's online backup: a whole, consistent gradebook even if a facilitator is grading.
    for db in "$COURSE_ROOT"/cohorts/*/gradebook.db; do
      [ -e "$db" ] || continue
      cohort=$(basename "$(dirname "$db")")
      "$PY" -c 'import sqlite3, sys
src, dst = sqlite3.connect(sys.argv[1]), sqlite3.connect(sys.argv[2])
with dst:
    src.backup(dst)
src.close(); dst.close()' "$db" "$dest/gradebooks/$cohort.db"
    done
    # Files with their owners, groups and modes (the isolation depends on them). The live
    # gradebooks are left out: their copies above are the consistent ones.
    # shellcheck disable=SC2086
    tar --create --gzip --preserve-permissions --numeric-owner --file "$dest/files.tar.gz" \
      --exclude='gradebook.db' --exclude='gradebook.db-wal' --exclude='gradebook.db-shm' \
      --absolute-names "$ETC" "$COURSE_ROOT" "$EXCHANGE" $(ls -d $HOMES 2>/dev/null || true)
    (cd "$dest" && sha256sum files.tar.gz gradebooks/* > SHA256SUMS 2>/dev/null || \
      sha256sum files.tar.gz > SHA256SUMS)
    echo "$dest"
    ;;
  restore)
    src="$2"
    [ -f "$src/files.tar.gz" ] || { echo "backup.sh: $src holds no backup" >&2; exit 2; }
    (cd "$src" && sha256sum --check --quiet SHA256SUMS)
    tar --extract --gzip --preserve-permissions --numeric-owner --same-owner \
      --absolute-names --file "$src/files.tar.gz"
    for copy in "$src"/gradebooks/*.db; do
      [ -e "$copy" ] || continue
      cohort=$(basename "$copy" .db)
      target="$COURSE_ROOT/cohorts/$cohort/gradebook.db"
      rm -f "$target-wal" "$target-shm"
      cp --preserve=mode "$copy" "$target"
      chown --reference="$COURSE_ROOT/cohorts/$cohort" "$target"
      chmod 0660 "$target"
    done
    echo "restored from $src"
    ;;
  *) usage ;;
esac
