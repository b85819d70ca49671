"""``bench.json``: the settings, machine, versions, summary and every round of one benchmark run."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from .results import RoundResult
from .servers import NODE_DIR, tool_version

PY_PACKAGES = (
    "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "orjson", "redis", "hiredis",
    "prometheus-client", "cachetools", "locust",
)  # fmt: skip


def machine() -> dict[str, Any]:
    lscpu = _run(["lscpu"])
    model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "")
    mem_kb = next(
        (int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal")), 0
    )
    return {
        "cpu": model or platform.processor() or "unknown",
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "note": "load tool and server share these CPUs",
    }


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PY_PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["node"] = tool_version(["node", "--version"])
    for dep in ("uuid", "lru-cache"):
        package = NODE_DIR / "node_modules" / dep / "package.json"
        found[f"npm {dep}"] = json.loads(package.read_text())["version"] if package.exists() else "not installed"
    found["redis-server"] = _version_word(tool_version(["redis-server", "--version"]), "v=")
    found["wrk"] = _version_word(tool_version(["wrk", "-v"]), "wrk ")
    return found


def _version_word(line: str, marker: str) -> str:
    """``'7.0.15'`` from ``'Redis server v=7.0.15 sha=...'`` (marker ``'v='``); the line itself if absent."""
    if marker not in line:
        return line
    return line.split(marker, 1)[1].split()[0]


def _run(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def document(
    args: argparse.Namespace,
    tool: str,
    command: str,
    summary: dict[str, Any],
    results: Sequence[RoundResult],
    notes: list[str],
    elapsed_s: float,
) -> dict[str, Any]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "settings": {
            "servers": list(summary["rows"]),
            "rounds": args.rounds,
            "duration_s": args.duration,
            "fixed_count_requests": args.requests,
            "connections": args.connections,
            "threads": args.threads,
            "load_tool": tool,
            "redis_maxmemory": args.redis_maxmemory,
            "payload_items": args.payload_items,
            "origin_latency_ms": 0,
        },
        "elapsed_s": round(elapsed_s, 1),
        "machine": machine(),
        "versions": versions(),
        "notes": notes,
        "summary": summary,
        "rounds": [asdict(r) for r in results],
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n")
