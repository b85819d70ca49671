"""Fixtures for the lab's tests of your own service: the examples and a bare virtualenv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CACHE = Path.home() / ".cache" / "leaklab"


def line_of(path: Path, text: str) -> int:
    """The number of the first line of ``path`` containing ``text``."""
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


@pytest.fixture(scope="session")
def bare_python() -> Path:
    """A virtualenv with nothing in it but Python (no pip, no packages), cached in ~/.cache/leaklab/."""
    venv = CACHE / f"bare-venv-{sys.version_info.major}.{sys.version_info.minor}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--clear", str(venv)], check=True)
    return python
