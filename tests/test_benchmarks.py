"""Every benchmark runs at its smallest size and ends with `ratio=<value> target=<value>`."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow
MODULE = "m01-making-the-case"
LAST_LINE = re.compile(r"^ratio=\d+(\.\d+)? target=\d+(\.\d+)?$")


@pytest.mark.parametrize("script, flags", [
    ("grade_cohort.py", ["--learners", "2", "--modules", MODULE]),
    ("learner_startup.py", ["--modules", MODULE, "--import-repeat", "1"]),
    ("reports_scale.py", ["--learners", "20", "--modules", MODULE]),
    ("content_ci.py", ["--modules", MODULE]),
])
def test_benchmark_smallest_size(script: str, flags: list[str]):
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *flags],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    lines = result.stdout.strip().splitlines()
    assert lines and LAST_LINE.match(lines[-1]), lines[-5:]


def test_reports_benchmark_bounds_the_ratio_when_export_is_stopped():
    """At 5,000 learners `nbgrader export` can run for most of an hour: --export-timeout stops
    it and the ratio becomes an upper bound, said as such."""
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "reports_scale.py"), "--learners", "5",
         "--modules", MODULE, "--export-timeout", "0.5"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "nbgrader export          stopped after" in result.stdout
    assert "privacy-course report / nbgrader export <= " in result.stdout
    assert LAST_LINE.match(result.stdout.strip().splitlines()[-1])
