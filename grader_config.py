"""The course's one configuration: nbgrader's settings and the course's own, as traitlets config.

Every `privacy-course` command loads this file explicitly. nbgrader itself only reads a file named
`nbgrader_config.py`; the one beside this file just loads this one, so plain `nbgrader ...` run
from this folder uses the same settings (see README, "Running nbgrader by hand").
"""

import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads the file)

ROOT = os.path.dirname(os.path.abspath(__file__))

# --- where things live (embedded defaults: one facilitator, one machine) ----------------------
c.CourseDirectory.root = ROOT
c.CourseDirectory.course_id = "privacy-course"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(ROOT, "gradebook.db")
c.Exchange.root = os.path.join(ROOT, ".exchange")
# Several cohorts share one exchange; without this a second cohort's fetch fails.
c.Exchange.path_includes_course = True
# nbgrader's collect copies submissions following symbolic links, from an inbound folder every
# learner can write to: this one takes regular files only (privacy_course/grading/intake.py).
c.ExchangeFactory.collect = "privacy_course.grading.intake.SafeCollect"
# Feedback and the formgrader render learners' notebooks as HTML: markup a learner typed, or
# that her code displayed, must not run as script in the facilitator's or anyone's browser.
c.HTMLExporter.sanitize_html = True
c.HTMLExporter.preprocessors = [  # the formgrader's view of a submission
    "privacy_course.grading.sanitize.LearnerMarkdownAsText",
    "nbconvert.preprocessors.sanitize.SanitizeHTML",
]

# --- the course's own settings ----------------------------------------------------------------
c.CourseSettings.pass_mark = 0.8  # share of a module's auto-graded points needed to complete it
# Shared reports never show a count below this (NCES 2011-603: the modal state minimum is 10).
c.CourseSettings.min_cell_size = 10
# The time zone due dates are written and shown in: an IANA name such as "America/Chicago" or
# "America/New_York" (the list: https://en.wikipedia.org/wiki/List_of_tz_database_time_zones).
# `release --due "Jan 15 2027 5pm"` means 5 pm there; `status` shows due dates in it.
c.CourseSettings.time_zone = "UTC"
# Professional-development hours credited per completed module, on certificates and in the
# per-learner CSV (each module takes 30 to 45 minutes: 0.75 x 8 modules = 6 hours).
c.CourseSettings.hours_per_module = 0.75
# --- certificates (`privacy-course certificates`; README, "Certificates") ---------------------
# Who issues them and who signs: printed on every certificate and named in its signed
# credential. `certificates` refuses to write any while the issuer or the signer is empty.
c.CourseSettings.certificate_issuer = ""  # e.g. "Springfield Public Schools"
c.CourseSettings.certificate_issuer_url = ""  # e.g. "https://www.springfield.k12.example.us"
c.CourseSettings.certificate_signer = ""  # e.g. "Dr. Maria Lopez"
c.CourseSettings.certificate_signer_title = ""  # e.g. "Director of Professional Learning"
c.CourseSettings.certificate_title = "Certificate of Completion"
# The key that signs the credentials: empty = .certificate-key/issuer-key.pem here, made on
# first use, readable by its owner only, never committed. Keep a backup: credentials issued
# with a key verify against that key only.
c.CourseSettings.certificate_key_file = ""
# Extra font files for names the bundled DejaVu Sans cannot show (e.g. Chinese); fonts found by
# fontconfig (on Debian: `apt-get install fonts-noto-cjk`) are used as well.
c.CourseSettings.certificate_fonts = []
# Cohort gradebooks: empty = one SQLite file per cohort. For a hub with several facilitators,
# a PostgreSQL URL template with {cohort}, e.g.
# "postgresql+psycopg://grader@db.example.org/privacy_{cohort}" (or set PRIVACY_COURSE_DB_URL).
c.CourseSettings.cohort_db_url = ""

# --- how notebooks are generated and graded ------------------------------------------------------
# Learners answer by clicking; the few code cells they could type in get a harmless stub instead
# of nbgrader's default `raise NotImplementedError()`, so "Run All" never stops on an error.
c.ClearSolutions.code_stub = {
    "python": "# Nothing to type here: your answers above are saved as you click.\n"
}
c.ExecutePreprocessor.timeout = 60  # seconds per cell when grading
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# A deleted test cell is put back (and graded) rather than silently going to manual grading.
c.OverwriteCells.add_missing_cells = True
# Feedback returned to learners must never show hidden tests (nbgrader shows them by default).
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "nbgrader.preprocessors.ClearHiddenTests",
    # nbgrader's feedback template ignores HTMLExporter.sanitize_html: a learner's own markdown
    # is shown as text, and every output is cleaned with bleach (scripts, event handlers and
    # javascript: links removed).
    "privacy_course.grading.sanitize.LearnerMarkdownAsText",
    "nbconvert.preprocessors.sanitize.SanitizeHTML",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
# nbgrader's sanitising steps, with a deleted test cell put back WITH a cell id (nbgrader's own
# OverwriteCells restores it without one, and nbformat then warns on every read and write).
c.Autograde.sanitize_preprocessors = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "privacy_course.grading.cell_ids.OverwriteCellsWithIds",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Test cells of clicked answers are scored again outside the learner's kernel, from the saved
# answers (privacy_course/grading/trusted.py): code in the notebook cannot fake a pass.
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute",
    "privacy_course.grading.trusted.ScoreFromResponses",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
# Grading notes (the limits a cell hit, a test cell made to pass in the notebook) travel in the
# graded notebook's metadata under "privacy_course" (privacy_course/record.py): keep them.
c.ClearMetadataPreprocessor.preserve_nb_metadata_mask = [("language_info", "name"),
                                                         "privacy_course"]
# A learner's responses file is their work: autograde must never overwrite it from source/.
c.Autograde.exclude_overwriting = {
    name: [f"{name}.responses.json"]
    for name in sorted(os.listdir(os.path.join(ROOT, "modules")))
    if os.path.isdir(os.path.join(ROOT, "modules", name))
}
