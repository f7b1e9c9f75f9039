"""The learner's side of nbgrader's exchange when several learners share one computer account.

`privacy-course start --cohort NAME --learner ID` lets several learners work on one machine
under one account. nbgrader keeps one cache of submitted copies per account
(`Exchange.cache`), and its feedback step hands back the feedback of every submission in that
cache: fetching feedback as one learner returned every learner's feedback, score and written
answers. Two things keep each learner's feedback to herself:

- each learner id gets its own cache folder (`learner_cache`), so her submissions, and the
  secrets that name her feedback, sit apart from everyone else's;
- `OwnFeedback`, the fetch-feedback step learners use, only takes feedback whose name comes
  from one of her own submissions (her learner id, her secret), whatever else a cache holds
  (an older shared cache, a cache folder configured by hand).

This keeps learners' work apart in the course's own tools; it is not a wall between people who
share an account: anyone signed in to that account can open any of its folders. Where learners
must not be able to read each other's work at all, give each an account of their own (a hub).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any

from nbgrader.exchange.default.fetch_feedback import ExchangeFetchFeedback
from nbgrader.utils import get_username, notebook_hash
from traitlets.config import Config

LEARNER_CACHES = "by-learner"


def default_cache() -> Path:
    """nbgrader's own default cache folder for this account ($JUPYTER_DATA_DIR/nbgrader_cache)."""
    from jupyter_core.paths import jupyter_data_dir

    return Path(jupyter_data_dir()) / "nbgrader_cache"


def learner_cache(learner_id: str, base: Path | None = None) -> Path:
    """The cache folder of one learner on a shared account: `<cache>/by-learner/<learner id>`."""
    return (base or default_cache()) / LEARNER_CACHES / learner_id


def learner_caches(base: Path | None = None) -> list[Path]:
    """Every learner's cache folder under an account's cache (for purging a cohort)."""
    folder = (base or default_cache()) / LEARNER_CACHES
    return sorted(p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def own_feedback_pages(cache_path: Path, learner_id: str, module_id: str,
                       feedback_folder: Path) -> set[str]:
    """The exchange's feedback pages that belong to this learner's own submissions in a cache:
    nbgrader names each page after the secret of the submission it answers."""
    pages = set()
    pattern = f"{glob.escape(learner_id)}+{glob.escape(module_id) if module_id != '*' else '*'}+*"
    for submission in cache_path.glob(pattern):
        try:
            secret = (submission / "submission_secret.txt").read_text()
        except OSError:
            continue  # no secret (an nbgrader older than 0.7): nothing provably hers
        for notebook in submission.glob("*.ipynb"):
            digest = notebook_hash(secret=secret, notebook_id=notebook.stem)
            pages.add(os.path.join(str(feedback_folder), f"{digest}.html"))
    return pages


class OwnFeedback(ExchangeFetchFeedback):
    """nbgrader's fetch-feedback step, keeping only feedback for the learner's own submissions."""

    feedback_files: list[tuple[str, str, str]]  # set by nbgrader: (notebook, timestamp, page)

    def init_src(self) -> None:
        super().init_src()
        learner = self.coursedir.student_id
        if not learner or learner == "*":
            learner = get_username()
        mine = own_feedback_pages(Path(self.cache_path), learner,
                                  self.coursedir.assignment_id or "*", Path(self.outbound_path))
        found = self.feedback_files
        kept = [entry for entry in found if entry[2] in mine]
        if len(kept) < len(found):
            self.log.info("Left %d feedback page(s) of other learners' submissions alone",
                          len(found) - len(kept))
        self.feedback_files = kept


def exchange_step(kind: str, config: Config, module_id: str) -> Any:
    """One of nbgrader's exchange steps ("ReleaseAssignment", "FetchAssignment", "Submit",
    "FetchFeedback", ...) for one module, built the way nbgrader's own apps build it."""
    from nbgrader.auth import Authenticator
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.exchange import ExchangeFactory

    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = module_id
    return getattr(ExchangeFactory(config=config), kind)(
        coursedir=coursedir, config=config, authenticator=Authenticator(config=config))
