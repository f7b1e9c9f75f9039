"""Fonts shipped with the course, so that PDFs (work products, certificates) print every
learner's name and text on any machine: DejaVu Sans covers Latin with every diacritic
(Vietnamese included), Greek and Cyrillic, where PDF core fonts cover only Latin-1.
DejaVu's licence (Bitstream Vera terms, DejaVu changes in the public domain) is beside them."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def font_path(bold: bool = False) -> Path:
    """The path of DejaVu Sans (regular or bold) inside the installed package."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(str(resources.files("privacy_course.fonts") / name))
