"""``leaklab attach``: profile the running API with memray for a while, without restarting it."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from ...args import duration, number
from ...procs import INSTALL_HINTS
from ..report import ProfileError, print_summary
from .capture import attach
from .methods import AUTO, METHODS
from .options import AttachOptions
from .runner import CONTAINER_API_PID, ComposeRunner, LocalRunner, Runner
from .start import AttachFailed
from .target import AttachRefused, Target, check_can_attach, find_target

PROJECT = Path(__file__).resolve().parents[3]


def build_parser(prog: str = "leaklab attach") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Attach memray to the running API (by PID, or by the port it listens on) for a bounded time, "
            "without restarting it, then write a flame graph, a leaks view and a summary naming the line "
            "that holds the memory: the same files as `leaklab profile`."
        ),
        epilog=(
            "Needs memray in the API's own Python, a way in (sys.remote_exec on Python 3.14+, else gdb, else "
            "lldb; make deps-attach installs both debuggers) and permission to ptrace the API: the same "
            "user or root, and kernel.yama.ptrace_scope below 3. In Compose: make lab-attach."
        ),
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--pid", type=number(int, 1), help="process id of the API")
    which.add_argument("--port", type=number(int, 1, 65535), help="find the API by the local port it listens on")
    which.add_argument(
        "--compose",
        action="store_true",
        help="the Compose lab's API, started with the opt-in compose.attach.yaml (make lab-attach does both)",
    )
    parser.add_argument("--duration", type=duration(1, 3600), default=20, help="how long to track (default 20s)")
    parser.add_argument(
        "--native",
        action="store_true",
        help="record C stacks too: names the native call behind memory tracemalloc cannot see",
    )
    parser.add_argument(
        "--users",
        type=number(int, 0, 500),
        default=0,
        help="Locust StoryUsers to drive meanwhile (default 0: the lab's own load is running)",
    )
    parser.add_argument(
        "--method",
        choices=[AUTO, *METHODS],
        default=AUTO,
        help="how memray gets in: auto (default) tries sys.remote_exec, then gdb, then lldb, and says which attached",
    )
    parser.add_argument("--out", type=Path, help="output directory (default profiles/attach-PID-YYYYmmdd-HHMMSS)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab attach") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        if importlib.util.find_spec("memray") is None:
            raise AttachRefused(f"memray is not installed for {sys.executable}: {INSTALL_HINTS['memray']}")
        runner: Runner
        if args.compose:
            runner, target = ComposeRunner(PROJECT), Target(CONTAINER_API_PID, _compose_api_port())
        else:
            runner, target = LocalRunner(), find_target(args.pid, args.port)
            check_can_attach(target)
        out: Path = args.out or PROJECT / "profiles" / f"attach-{target.pid}-{datetime.now():%Y%m%d-%H%M%S}"
        options = AttachOptions(args.duration, native=args.native, users=args.users, method=args.method)
        summary = attach(target, out, options, log=lambda line: print(line, file=sys.stderr, flush=True), runner=runner)
    except AttachRefused as exc:
        print(f"{prog}: cannot attach: {exc}", file=sys.stderr)
        return 1
    except (AttachFailed, ProfileError, OSError, subprocess.SubprocessError) as exc:
        print(f"{prog}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1
    print_summary(summary)
    return 0


def _compose_api_port() -> int:
    """The API's published port: ``API_PORT`` in the lab's ``.env``, else Compose's default 8000."""
    env = PROJECT / ".env"
    lines = env.read_text().splitlines() if env.exists() else []
    values = [line.split("=", 1)[1].strip() for line in lines if line.startswith("API_PORT=")]
    return int(values[-1]) if values and values[-1].isdigit() else 8000
