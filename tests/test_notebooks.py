"""nbval over every source and release notebook, each run in a throw-away copy so that running
them never writes answers or work products into the committed trees."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.nbval]


def test_nbval_lax_over_source_and_release(tmp_path: Path):
    for kind in ("source", "release"):
        shutil.copytree(ROOT / kind, tmp_path / kind)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path / "source"), str(tmp_path / "release")],
        cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert not list((ROOT / "source").rglob("*.responses.json"))
