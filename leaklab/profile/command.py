"""``leaklab profile``: the API under memray for a bounded time with the story's load, then the leaking line.

Writes, next to memray's capture file: ``flamegraph.html`` (what held memory at its peak),
``leaks.html`` (what was never freed before the API exited) and ``summary.md``/``summary.json``, which
name the top allocator: the source line whose memory grew most while the load ran, with its share.
The share is computed like ``GET /debug/memory`` does with tracemalloc: of all growth since the load
started (the story's 99.81% is such a share).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from ..args import duration, number
from ..lab.load import LOCUSTFILE, LoadOptions, Locust
from ..procs import INSTALL_HINTS, LOOPBACK, Child, ChildDied, MissingBinary, RedisServer, free_port
from ..scrape import scrape
from .memray_summary import leaked_sites, markdown, paragraph, top_sites

MODES = ("leaky", "lru", "redis")
PROJECT = Path(__file__).resolve().parents[2]
FINISH_TIMEOUT_S = 120.0  # memray compresses its capture file on exit; large captures take a while


class ProfileError(RuntimeError):
    """The profile could not be taken; the message says why."""


def build_parser(prog: str = "leaklab profile") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Run the API under memray while Locust's StoryUser drives it, then write a flame graph, "
            "a leaks view and a summary naming the line that holds the memory."
        ),
        epilog=(
            "Leaky mode keeps one ~68 KiB payload per request, about users / wait-s requests a second: "
            "10 users at 0.1 s for 20 s keep ~130 MiB. Needs memray (Linux or macOS)."
        ),
    )
    parser.add_argument("--mode", choices=MODES, default="leaky", help="cache mode of the API (default leaky)")
    parser.add_argument("--duration", type=duration(1, 3600), default=20, help="how long the load runs (default 20s)")
    parser.add_argument("--users", type=number(int, 1, 500), default=10, help="Locust users (default 10)")
    parser.add_argument(
        "--wait-s",
        type=number(float, 0, 60),
        default=0.1,
        help="mean seconds each user waits between requests; 0 = as fast as possible (default 0.1)",
    )
    parser.add_argument("--out", type=Path, help="output directory (default profiles/MODE-YYYYmmdd-HHMMSS)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab profile") -> int:
    args = build_parser(prog).parse_args(argv)
    out: Path = args.out or PROJECT / "profiles" / f"{args.mode}-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        require_memray()
        summary = profile(args.mode, out, duration_s=args.duration, users=args.users, wait_s=args.wait_s)
    except (MissingBinary, ChildDied, ProfileError, OSError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    print(summary["paragraph"])
    print()
    width = max(len(name) for name in summary["files"])
    for name, path in summary["files"].items():
        print(f"  {name:<{width}}  {path}")
    return 0


def require_memray() -> None:
    if importlib.util.find_spec("memray") is None:
        raise ProfileError(f"memray is not installed for {sys.executable}: {INSTALL_HINTS['memray']}")


def profile(
    mode: str, out: Path, *, duration_s: int, users: int, wait_s: float, locustfile: Path = LOCUSTFILE
) -> dict[str, Any]:
    """Capture ``mode`` under load into ``out``, render memray's views and write the summary; return it."""
    out.mkdir(parents=True, exist_ok=True)
    capture = out / f"memray-{mode}.bin"
    load = LoadOptions(duration_s, users, float(users), "StoryUser", wait_s, locustfile=locustfile)
    redis: RedisServer | None = None
    api: ProfiledApi | None = None
    try:
        extra: list[str] = []
        if mode == "redis":
            redis = RedisServer(out, maxmemory="64mb")
            extra = ["--redis-url", redis.url]
        api = ProfiledApi(out, mode, capture, extra)
        print(f"profiling {mode} mode under memray: {users} users for {duration_s}s (pid {api.pid})", file=sys.stderr)
        load_start = time.time()
        locust = Locust(out, out / "locust", api.url, load)
        try:
            locust.proc.wait(duration_s + 60)
        except subprocess.TimeoutExpired:
            raise ProfileError(f"Locust did not stop after its {duration_s}s run; see {locust.log_path}") from None
        finally:
            locust.stop()
        stats = locust.final()
        if not api.alive():
            raise api.died()
        served = _served(api.port)
        api.finish()
    finally:
        if api is not None:
            api.stop()
        if redis is not None:
            redis.stop()
    if stats is None:
        raise ProfileError(f"Locust wrote no stats; see {locust.log_path}")
    print("rendering memray's flame graphs", file=sys.stderr)
    files = {
        "flamegraph": _render(capture, out / "flamegraph.html"),
        "leaks": _render(capture, out / "leaks.html", "--leaks"),
    }
    peak, baseline, sites = top_sites(capture, load_start)
    leaked = leaked_sites(capture)
    summary: dict[str, Any] = {
        "mode": mode,
        "duration_s": duration_s,
        "users": users,
        "wait_s": wait_s,
        "requests": served if served is not None else stats.requests,
        "failures": stats.failures,
        "peak_bytes": peak,
        "load_start_bytes": baseline,
        "top_sites": [asdict(s) for s in sites],
        "leaked_sites": [asdict(s) for s in leaked],
    }
    summary["paragraph"] = paragraph(summary)
    files["capture"] = capture
    files["summary_md"] = out / "summary.md"
    files["summary_json"] = out / "summary.json"
    summary["files"] = {name: str(path) for name, path in files.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(summary))
    return summary


def _served(port: int) -> int | None:
    """``GET /data`` requests the API answered, from its own ``/metrics`` (Locust's CSV can lag a second)."""
    try:
        samples = scrape(port, timeout_s=10.0)
    except (OSError, RuntimeError):
        return None
    return int(sum(v for k, v in samples.with_prefix("http_requests_total").items() if 'handler="/data"' in k))


class ProfiledApi(Child):
    """``python -m memray run -m leaklab_api`` on a free port; ``finish()`` lets memray close its capture."""

    def __init__(self, log_dir: Path, mode: str, capture: Path, extra_args: Sequence[str] = ()) -> None:
        self.port = free_port()
        argv = [
            sys.executable, "-m", "memray", "run", "--quiet", "--force", "--output", str(capture),
            "-m", "leaklab_api", "--mode", mode, "--port", str(self.port), *extra_args,
        ]  # fmt: skip
        # memray's docs: with pymalloc, freed small objects stay in its arenas and look leaked
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEAKLAB_")} | {"PYTHONMALLOC": "malloc"}
        super().__init__(f"leaklab api ({mode}) under memray", argv, log_dir / f"api-{mode}.log", env)
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.wait_http(self.port, "/healthz", 60.0)  # tracking every allocation makes start-up several times slower

    def finish(self) -> None:
        """SIGINT, as Ctrl-C would: uvicorn shuts down and memray writes and closes its capture file."""
        # SIGTERM would not do: uvicorn re-raises it after its shutdown and the default action
        # kills the process before memray has finished the file.
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ProfileError(f"memray did not finish its capture within {FINISH_TIMEOUT_S:g}s") from None
        if code != 0:
            raise ProfileError(f"the API under memray exited with code {code}:\n{self.log_tail()}")


def _render(capture: Path, html: Path, *flags: str) -> Path:
    """``memray flamegraph`` with its assets inlined (``--no-web``), so the page works offline."""
    argv = [sys.executable, "-m", "memray", "flamegraph", *flags, "--no-web", "--force", "--output", str(html)]
    done = subprocess.run([*argv, str(capture)], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not html.exists():
        raise ProfileError(f"memray flamegraph {' '.join(flags)} failed: {(done.stderr or done.stdout).strip()}")
    return html
