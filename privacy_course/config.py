"""The course's one configuration: `grader_config.py` at the course root.

nbgrader only ever looks for a file called `nbgrader_config.py` and, when it finds none, silently
creates a fresh `gradebook.db` wherever it is run. Every `privacy-course` command therefore loads
`grader_config.py` explicitly through this module and refuses to go on when the file does not set
the course root, so a command can never grade into the wrong gradebook. (The course root also
carries a two-line `nbgrader_config.py` that only loads `grader_config.py`, for maintainers who
run plain `nbgrader ...` there.)
"""

from __future__ import annotations

import os
from pathlib import Path

from traitlets import Bool, Float, Integer, List, Unicode
from traitlets.config import Config, Configurable
from traitlets.config.loader import PyFileConfigLoader

from privacy_course.errors import CourseError

CONFIG_FILE = "grader_config.py"
ROOT_ENV = "PRIVACY_COURSE_ROOT"


class ConfigError(CourseError, RuntimeError):
    """The course configuration is missing or unusable; the message says which file and why."""


class CourseSettings(Configurable):
    """The course's own settings, kept beside nbgrader's in `grader_config.py`."""

    pass_mark = Float(
        0.8,
        min=0.0,
        max=1.0,
        help="Share of a module's auto-graded points a learner needs to complete it.",
    ).tag(config=True)

    cohort_db_url = Unicode(
        "",
        help="Gradebook URL template for cohorts, with {cohort} for the cohort's name, e.g. "
        "'postgresql+psycopg://grader@db.example.org/privacy_{cohort}'. Empty: one SQLite file "
        "per cohort in cohorts/<name>/. The PRIVACY_COURSE_DB_URL environment variable wins.",
    ).tag(config=True)

    min_cell_size = Integer(
        10,
        min=1,
        help="Smallest count a shared (outside the facilitator team) report may show. 10 is the "
        "most common minimum reporting group size among U.S. states (NCES 2011-603).",
    ).tag(config=True)

    hours_per_module = Float(
        0.75,
        min=0.0,
        help="Professional-development hours credited per completed module: the certificate "
        "and the per-learner CSV show this times the modules completed (0.75 x 8 = 6 hours).",
    ).tag(config=True)

    certificate_issuer = Unicode(
        "",
        help="The organisation that issues certificates (your district or agency), printed on "
        "them and named in their signed credentials. `certificates` refuses while it is empty.",
    ).tag(config=True)

    certificate_issuer_url = Unicode(
        "", help="The issuer's web address, printed on certificates (optional)."
    ).tag(config=True)

    certificate_signer = Unicode(
        "",
        help="The person whose name stands on the certificate's signature line, e.g. the "
        "director of professional learning. `certificates` refuses while it is empty.",
    ).tag(config=True)

    certificate_signer_title = Unicode(
        "", help="The signer's job title, printed under the name (optional)."
    ).tag(config=True)

    certificate_title = Unicode(
        "Certificate of Completion", help="The heading of every certificate."
    ).tag(config=True)

    certificate_key_file = Unicode(
        "",
        help="The private key that signs certificate credentials. Empty: "
        "`.certificate-key/issuer-key.pem` in the course folder, created on first use, readable "
        "by its owner only (mode 0600) and never committed.",
    ).tag(config=True)

    certificate_fonts = List(
        Unicode(),
        default_value=[],
        help="Font files (.ttf, .otf, .ttc) to try for letters of learners' names that the "
        "bundled DejaVu Sans lacks (Chinese, Japanese, Korean, ...), before the fonts that "
        "fontconfig finds on this machine.",
    ).tag(config=True)

    title = Unicode(
        "Student Data Privacy for District Leaders",
        help="Course title shown to learners and on reports.",
    ).tag(config=True)

    time_zone = Unicode(
        "UTC",
        help="The cohorts' time zone, an IANA name such as 'America/Chicago': due dates given "
        "to `privacy-course release --due` are read in it, and `status` shows them in it.",
    ).tag(config=True)


def find_course_root(start: Path | None = None) -> Path:
    """Return the folder holding `grader_config.py`.

    `PRIVACY_COURSE_ROOT` wins; otherwise the folder is searched for upwards from `start`
    (default: the current folder), the way git finds its repository.
    """
    env = os.environ.get(ROOT_ENV)
    if env:
        root = Path(env).expanduser().resolve()
        if not (root / CONFIG_FILE).is_file():
            raise ConfigError(f"{ROOT_ENV}={env} but {root / CONFIG_FILE} does not exist")
        return root
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).is_file():
            return folder
    raise ConfigError(
        f"No {CONFIG_FILE} found in {here} or any folder above it. Run this command inside the "
        f"course folder, or set {ROOT_ENV} to it."
    )


def load_config(root: Path | None = None) -> Config:
    """Load `grader_config.py` and check that it pins nbgrader to this course folder."""
    root = (root or find_course_root()).resolve()
    path = root / CONFIG_FILE
    if not path.is_file():
        raise ConfigError(f"{path} does not exist")
    try:
        config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    except Exception as exc:  # a syntax or name error in the file: say which file
        raise ConfigError(f"{path} could not be loaded: {exc}") from exc
    configured = config.CourseDirectory.get("root")
    if not configured or Path(configured).resolve() != root:
        raise ConfigError(
            f"{path} must set c.CourseDirectory.root to its own folder ({root}); it sets "
            f"{configured!r}. Without it nbgrader would use a different gradebook."
        )
    return config


def course_settings(config: Config) -> CourseSettings:
    """The course's own settings from a loaded configuration."""
    return CourseSettings(config=config)


class SandboxSettings(Configurable):
    """Limits of the restricted kernel that runs learners' notebooks during grading."""

    enabled = Bool(True, help="Grade in the restricted kernel (bubblewrap).").tag(config=True)
    allow_unsandboxed = Bool(
        False,
        help="Set to True only where isolation is impossible (no user namespaces): grading then "
        "runs learners' code with the facilitator's rights, and every run warns about it.",
    ).tag(config=True)
    cpu_seconds = Integer(120, min=1, help="CPU seconds per notebook.").tag(config=True)
    memory_mb = Integer(3072, min=256, help="Address space per notebook kernel (MB).").tag(
        config=True)
    processes = Integer(256, min=8, help="Processes the sandbox user may run.").tag(config=True)
    file_size_mb = Integer(64, min=1, help="Largest file a notebook may write (MB).").tag(
        config=True)
    write_quota_mb = Integer(
        256, min=16,
        help="All that a notebook's code may write in total (MB): its working copy, /tmp and "
        "/dev/shm share one memory-backed file system of this size.").tag(config=True)
    submission_files = Integer(
        300, min=10, help="Most files taken from one submission; the rest are refused.").tag(
        config=True)
    submission_mb = Integer(
        100, min=1, help="Most data taken from one submission (MB); the rest is refused.").tag(
        config=True)
    output_kb = Integer(512, min=1, help="Output kept per cell (KB); the rest is cut.").tag(
        config=True)
