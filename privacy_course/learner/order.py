"""The order in which a learner sees the choices of a scenario step and a check's options.

Shown in file order, the best choice or the keyed option sat in the same place for everyone, so
its position was a cue. Each learner gets her own order instead, stable across reloads and
kernel restarts (a reload that reshuffled would make her doubt what she clicked): options are
sorted by a hash of the learner's seed, the question's key and the option's id. Option ids never
change, so what is saved and graded does not depend on the order.

The seed: on a JupyterHub, the hub user name (`JUPYTERHUB_USER`); elsewhere a random token kept
in the learner's course folder beside her profile (`.privacy-course/seed`), created on first
use, so that several learners working under one computer account (one course folder each) get
different orders. If that folder cannot be written, the course folder's path stands in.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from privacy_course.learner.profile import PROFILE_DIR

SEED_FILE = "seed"


def learner_seed(module_folder: Path | str) -> str:
    """The learner's ordering seed, read (or made once) for the module folder's course."""
    user = os.environ.get("JUPYTERHUB_USER", "").strip()
    if user:
        return f"hub:{user}"
    course = Path(module_folder).resolve().parent
    path = course / PROFILE_DIR / SEED_FILE
    try:
        seed = path.read_text(encoding="utf-8").strip()
        if seed:
            return seed
    except OSError:
        pass
    seed = secrets.token_hex(16)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Exclusive create: two kernels starting at once keep whichever seed was written first.
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(seed + "\n")
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip() or seed
    except OSError:
        return f"folder:{course}"
    return seed


def shown_order(seed: str, key: str, options: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """`options` (dicts with an `id`) in the order this learner sees them for question `key`."""
    def rank(option: dict[str, Any]) -> str:
        return hashlib.sha256(f"{seed}\0{key}\0{option['id']}".encode()).hexdigest()

    return sorted(options, key=rank)
