"""Facts about where a run happened: the machine, and the versions of Python packages and tools.

``summary.json`` (the lab's report) and ``bench.json`` (the benchmarks) both record these, from here, and
the generated sections of BENCHMARKS.md and RELIABILITY.md close with them (``provenance``).
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

NOT_INSTALLED = "not installed"


def machine(meminfo: Path = Path("/proc/meminfo")) -> dict[str, Any]:
    """CPU model and count, kernel, total memory in bytes (None when unknown), platform and interpreter."""
    return {
        "cpu": _cpu_model() or platform.processor() or "unknown",
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "memory_bytes": _mem_total_bytes(meminfo),
        "platform": platform.platform(),
        "python": sys.executable,
    }


def provenance(machine_line: str, versions: dict[str, str], command: str) -> list[str]:
    """The closing Markdown lines of a generated section: the machine, the versions and the command."""
    listed = ", ".join(f"{k} {v}" for k, v in versions.items())
    return [f"Machine: {machine_line}", "", f"Versions: {listed}.", "", f"Command: `{command}`", ""]


def versions(packages: Sequence[str]) -> dict[str, str]:
    """Python's version and each installed distribution's (``NOT_INSTALLED`` when absent)."""
    found = {"python": platform.python_version()}
    for name in packages:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = NOT_INSTALLED
    return found


def tool_version(argv: list[str], marker: str = "") -> str:
    """The first line a tool prints for its version (``argv``), or just the word after ``marker`` in it."""
    if shutil.which(argv[0]) is None:
        return NOT_INSTALLED
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stdout or out.stderr).strip().splitlines()
    line = text[0] if text else "unknown"
    return version_word(line, marker) if marker else line


def version_word(line: str, marker: str) -> str:
    """``'7.0.15'`` from ``'Redis server v=7.0.15 sha=...'`` (marker ``'v='``); the line itself if absent."""
    if marker not in line:
        return line
    return line.split(marker, 1)[1].split()[0]


def _mem_total_bytes(meminfo: Path) -> int | None:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024  # the kernel writes kB and means KiB
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cpu_model() -> str:
    """``lscpu``'s "Model name" (it knows more architectures than /proc/cpuinfo's fields)."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Model name")), "")
