"""``leaklab profile``: the API under memray for a bounded time with the story's load, then the leaking line.

Writes, next to memray's capture file: ``flamegraph.html`` (what held memory at its peak),
``leaks.html`` (what was never freed before the API exited; not with ``--native``: see ``report.py``)
and ``summary.md``/``summary.json``, which name the top allocator: the source line whose memory grew
most while the load ran, with its share.
The share is computed like ``GET /debug/memory`` does with tracemalloc: of all growth since the load
started (the story's 99.81% is such a share).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..args import duration, number
from ..lab.catalogue import SCENARIOS, api_launch, run_name
from ..lab.load import LOCUSTFILE, LoadOptions, Locust
from ..procs import INSTALL_HINTS, LOOPBACK, Child, ChildDied, MissingBinary, RedisServer, free_port
from .report import ProfileError, print_summary, served, write_summary

MODES = ("leaky", "lru", "redis")
PROJECT = Path(__file__).resolve().parents[2]
FINISH_TIMEOUT_S = 120.0  # memray compresses its capture file on exit; large captures take a while


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
    parser.add_argument(
        "--scenario", choices=SCENARIOS, help="a leak of the catalogue instead (beside the lru cache; docs/leaks.md)"
    )
    parser.add_argument("--fixed", action="store_true", help="with --scenario: the scenario with its fix applied")
    parser.add_argument(
        "--native",
        action="store_true",
        help="record native (C) stacks too (memray run --native): names allocations made outside Python's "
        "allocator, which tracemalloc cannot see",
    )
    parser.add_argument("--out", type=Path, help="output directory (default profiles/MODE-YYYYmmdd-HHMMSS)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab profile") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.fixed and not args.scenario:
        parser.error("--fixed needs --scenario")
    name = run_name(args.scenario, args.fixed) if args.scenario else args.mode
    out: Path = args.out or PROJECT / "profiles" / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        require_memray()
        summary = profile(name, out, duration_s=args.duration, users=args.users, wait_s=args.wait_s, native=args.native)
    except (MissingBinary, ChildDied, ProfileError, OSError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    print_summary(summary)
    return 0


def require_memray() -> None:
    if importlib.util.find_spec("memray") is None:
        raise ProfileError(f"memray is not installed for {sys.executable}: {INSTALL_HINTS['memray']}")


def profile(
    mode: str,
    out: Path,
    *,
    duration_s: int,
    users: int,
    wait_s: float,
    locustfile: Path = LOCUSTFILE,
    native: bool = False,
) -> dict[str, Any]:
    """Capture ``mode`` (a cache mode or a scenario run) under load into ``out``, render memray's views and
    write the summary; return it. ``native``: memray records C stacks too, and sites are named by the
    Python line that called into C."""
    out.mkdir(parents=True, exist_ok=True)
    capture = out / f"memray-{mode}.bin"
    mode, scenario_args = api_launch(mode)
    load = LoadOptions(duration_s, users, float(users), "StoryUser", wait_s, locustfile=locustfile)
    redis: RedisServer | None = None
    api: ProfiledApi | None = None
    try:
        extra: list[str] = list(scenario_args)
        if mode == "redis":
            redis = RedisServer(out, maxmemory="64mb")
            extra += ["--redis-url", redis.url]
        api = ProfiledApi(out, mode, capture, extra, native=native)
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
        requests = served(api.port)
        api.finish()
    finally:
        if api is not None:
            api.stop()
        if redis is not None:
            redis.stop()
    if stats is None:
        raise ProfileError(f"Locust wrote no stats; see {locust.log_path}")
    fields = {
        "mode": capture.stem.removeprefix("memray-"),
        "duration_s": duration_s,
        "users": users,
        "wait_s": wait_s,
        "requests": requests if requests is not None else stats.requests,
        "failures": stats.failures,
    }
    return write_summary(
        capture, out, fields, load_start=load_start, native=native, log=lambda line: print(line, file=sys.stderr)
    )


class ProfiledApi(Child):
    """``python -m memray run -m leaklab_api`` on a free port; ``finish()`` lets memray close its capture."""

    def __init__(
        self, log_dir: Path, mode: str, capture: Path, extra_args: Sequence[str] = (), *, native: bool = False
    ) -> None:
        self.port = free_port()
        argv = [
            sys.executable, "-m", "memray", "run", "--quiet", "--force", *(["--native"] if native else []),
            "--output", str(capture),
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
