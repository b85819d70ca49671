"""``bench.json``: the settings, machine, versions, summary and every round of one benchmark run."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..machine import NOT_INSTALLED, machine, tool_version
from ..machine import versions as leaklab_versions
from .results import RoundResult
from .servers import NODE_DIR

PY_PACKAGES = (
    "fastapi", "starlette", "uvicorn", "uvloop", "httptools", "orjson", "redis", "hiredis",
    "prometheus-client", "cachetools", "locust",
)  # fmt: skip


def versions() -> dict[str, str]:
    """The Python packages on the request path, Node.js and its two packages, redis-server and wrk."""
    found = leaklab_versions(PY_PACKAGES)
    found["node"] = tool_version(["node", "--version"])
    for dep in ("uuid", "lru-cache"):
        package = NODE_DIR / "node_modules" / dep / "package.json"
        found[f"npm {dep}"] = json.loads(package.read_text())["version"] if package.exists() else NOT_INSTALLED
    found["redis-server"] = tool_version(["redis-server", "--version"], "v=")
    found["wrk"] = tool_version(["wrk", "-v"], "wrk ")
    return found


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
        "machine": machine() | {"note": "load tool and server share these CPUs"},
        "versions": versions(),
        "notes": notes,
        "summary": summary,
        "rounds": [asdict(r) for r in results],
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=2) + "\n")
