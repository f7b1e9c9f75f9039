"""Learner data never reaches git: in a fresh clone of this repository, a cohort created from a
roster with the real `privacy-course` command, its reports and its gradebook's write-ahead log
leave `git status` as it was, while new source files stay visible to git."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROSTER = ("\ufeffID,First Name,Last Name,Email\r\n"  # as a spreadsheet saves it
          "alice,Alice,Adams,alice@district.example.org\r\n"
          "bea,Bea,Brooks,bea@district.example.org\r\n")


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=check)


def status(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--ignored=no", "--untracked-files=all").stdout


def privacy_course(clone: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PRIVACY_COURSE_DB_URL", "PRIVACY_COURSE_COHORT")}
    env["PRIVACY_COURSE_ROOT"] = str(clone)
    command = Path(sys.executable).parent / "privacy-course"
    result = subprocess.run([str(command), *args], cwd=clone, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, f"privacy-course {' '.join(args)}:\n{result.stderr}"
    return result.stdout


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """A clone of the committed repository, with this checkout's .gitignore (the one under
    test, which may not be committed yet; in a clean checkout the copy changes nothing)."""
    dest = tmp_path / "course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(dest)], check=True,
                   capture_output=True)
    shutil.copy2(ROOT / ".gitignore", dest / ".gitignore")
    return dest


@pytest.mark.slow  # cohort create enters every module in a new gradebook: about 12 s
def test_cohort_reports_and_gradebook_log_are_never_committed(clone: Path):
    before = status(clone)
    (clone / "roster-spring.csv").write_text(ROSTER, encoding="utf-8")
    privacy_course(clone, "cohort", "create", "spring", "--roster", "roster-spring.csv")
    privacy_course(clone, "report", "--cohort", "spring")
    privacy_course(clone, "report", "--cohort", "spring", "--share")
    privacy_course(clone, "certificates", "--cohort", "spring")
    # A gradebook at the course root (plain `nbgrader` run there) in write-ahead-log mode: the
    # -wal and -shm files exist while a connection is open.
    with sqlite3.connect(clone / "gradebook.db") as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE student (id TEXT)")
        db.execute("INSERT INTO student VALUES ('alice')")
        db.commit()
        written = [p.relative_to(clone).as_posix() for p in clone.rglob("*")
                   if p.is_file() and ".git" not in p.relative_to(clone).parts]
        assert status(clone) == before, "learner data would be committed"
    db.close()

    # The commands did write learner data, in the places the ignore rules cover.
    assert {"cohorts/spring/cohort.json", "cohorts/spring/gradebook.db",
            "reports/spring-report.csv", "reports/spring-report.html",
            "gradebook.db-wal", "gradebook.db-shm"} <= set(written)
    assert "alice,Alice,Adams" in (clone / "reports" / "spring-report.csv").read_text(
        encoding="utf-8")
    # No one has completed the course, so no certificate exists yet: where one would go is
    # ignored all the same.
    certificate = "reports/spring-certificates/certificate-alice.pdf"
    assert git(clone, "check-ignore", "--no-index", "-q", certificate, check=False
               ).returncode == 0


def test_new_source_files_are_not_ignored(clone: Path):
    """The ignore rules name learner-data folders by where the course writes them, so a new
    file in a source folder of the same name (privacy_course/learner/) is still seen by git."""
    folders = sorted({str(Path(p).parent) for p in git(clone, "ls-files").stdout.splitlines()
                      if not p.startswith(("modules/", "source/", "release/"))})
    candidates = [f"{folder}/new_file.py" for folder in folders if folder != "."]
    candidates += ["privacy_course/learner/__init__.py", "privacy_course/reports/page.html",
                   "privacy_course/cohorts/new_file.py", "tests/data/roster-sample.csv"]
    ignored = git(clone, "check-ignore", "--no-index", *candidates, check=False).stdout.split()
    assert ignored == []
