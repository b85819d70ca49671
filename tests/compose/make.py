"""``make`` on the repo's Makefile as a user runs it, and a checkout of just the files the lab targets read."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def make(
    workdir: Path, *args: str, path: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``make -C workdir ARGS`` without this shell's make, Grafana, leaklab or Locust variables; ``path``
    replaces ``$PATH``."""
    binary = shutil.which("make")
    assert binary, "make is missing"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MAKE", "GRAFANA_", "LEAKLAB_", "LOCUST_"))}
    return subprocess.run(
        [binary, "--no-print-directory", "-C", str(workdir), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean | ({"PATH": path} if path is not None else {}) | (env or {}),
        check=False,
    )


def new_checkout(workdir: Path) -> Path:
    """The Makefile and .env.example in ``workdir`` (no .env yet)."""
    workdir.mkdir(parents=True, exist_ok=True)
    for name in ("Makefile", ".env.example"):
        shutil.copy(REPO / name, workdir / name)
    return workdir
