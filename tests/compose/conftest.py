"""A checkout of the lab's make targets in a directory of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from .make import new_checkout


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The Makefile and .env.example in a directory of their own (no .env yet)."""
    return new_checkout(tmp_path)
