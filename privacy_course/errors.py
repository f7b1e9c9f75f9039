"""The one base of every error the course reports to a person.

Each room raises its own kind (a roster, a cohort, the configuration, module content, the build,
the sandbox), each with a message that names the file, learner or key at fault. The command line
catches `CourseError` once, prints the message and exits with status 2; anything else is a defect
and keeps its traceback.
"""

from __future__ import annotations


class CourseError(Exception):
    """A problem a facilitator, maintainer or learner can fix; the message says what and where."""
