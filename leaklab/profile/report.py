"""What ``leaklab profile`` and ``leaklab attach`` write beside memray's capture: the flame graphs and the
summary (``summary.json``, ``summary.md``) that names the top allocator.

A capture with native stacks gets the peak flame graph only: symbolising every C frame makes each
rendering slow and its page large (~20 s and ~18 MB for a few seconds of load), and the leaks view of
such a capture is one ``memray flamegraph --leaks`` away (``summary.md`` says so).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..scrape import scrape
from ..units import mib
from .memray_summary import leaked_sites, markdown, paragraph, top_sites


class ProfileError(RuntimeError):
    """The profile could not be taken or rendered; the message says why."""


def served(port: int | None) -> int | None:
    """``GET /data`` requests the API has answered so far, from its own ``/metrics`` (Locust's CSV can lag)."""
    if port is None:
        return None
    with contextlib.suppress(OSError, RuntimeError):
        samples = scrape(port, timeout_s=10.0)
        return int(sum(v for k, v in samples.with_prefix("http_requests_total").items() if 'handler="/data"' in k))
    return None


def render(capture: Path, html: Path, *flags: str) -> Path:
    """``memray flamegraph`` with its assets inlined (``--no-web``), so the page works offline."""
    argv = [sys.executable, "-m", "memray", "flamegraph", *flags, "--no-web", "--force", "--output", str(html)]
    done = subprocess.run([*argv, str(capture)], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not html.exists():
        raise ProfileError(f"memray flamegraph {' '.join(flags)} failed: {(done.stderr or done.stdout).strip()}")
    return html


def write_summary(
    capture: Path, out: Path, fields: dict[str, Any], *, load_start: float, native: bool, log: Callable[[str], None]
) -> dict[str, Any]:
    """Render the flame graphs, find the top and the leaked sites (growth since ``load_start``, a Unix time),
    write ``summary.json`` and ``summary.md`` into ``out`` and return the summary: ``fields`` and the figures."""
    log("rendering memray's flame graph" + ("" if native else "s"))
    files = {"flamegraph": render(capture, out / "flamegraph.html")}
    if not native:
        files["leaks"] = render(capture, out / "leaks.html", "--leaks")
    peak, baseline, sites = top_sites(capture, load_start, native=native)
    summary: dict[str, Any] = fields | {
        "native": native,
        "peak_bytes": peak,
        "load_start_bytes": baseline,
        "top_sites": [asdict(s) for s in sites],
        "leaked_sites": [asdict(s) for s in leaked_sites(capture, native=native)],
    }
    summary["paragraph"] = paragraph(summary)
    files |= {"capture": capture, "summary_md": out / "summary.md", "summary_json": out / "summary.json"}
    summary["files"] = {name: str(path) for name, path in files.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(summary))
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    """What the command prints: the paragraph, the native calls behind the memory (with ``--native``), and
    where each file is."""
    print(summary["paragraph"])
    for chain in summary.get("native_callers", [])[:3]:
        print(f"  native: {chain['native']}  (from {chain['python']}, {mib(chain['bytes'])})")
    print()
    width = max(len(name) for name in summary["files"])
    for name, path in summary["files"].items():
        print(f"  {name:<{width}}  {path}")
