"""The package type-checks (mypy, configured in pyproject.toml), in the quick loop."""

from __future__ import annotations

from mypy import api

from .conftest import ROOT


def test_the_package_type_checks():
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"),
                                str(ROOT / "privacy_course")])
    assert status == 0, out + err
