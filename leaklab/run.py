"""``leaklab run --mode M``: one mode under load and a memory limit, then a report directory.

``leaklab compare`` shares the options and the runner below (``execute``).
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from types import FrameType
from typing import Any

from .args import duration, number, parse_size
from .lab import LabOptions, ModeResult, run_mode
from .limits import MECHANISMS, LimitError, choose
from .live import LiveDisplay, verdict_table
from .load import LOCUSTFILE, LoadOptions
from .procs import MissingBinary, require

MODES = ("leaky", "lru", "redis")
USER_CLASSES = ("StoryUser", "RealisticUser")
MIN_LIMIT = 64 * 1024 * 1024


def memory_limit(text: str) -> int:
    size = parse_size(text)
    if size < MIN_LIMIT:
        raise argparse.ArgumentTypeError(f"--mem-limit {text!r} is below 64M: the API alone needs about 60 MB")
    return size


def add_lab_options(parser: argparse.ArgumentParser) -> None:
    load = parser.add_argument_group("load (Locust, the repo's locustfile)")
    load.add_argument("--duration", type=duration(3, 24 * 3600), default="50s", help="load time per mode (default 50s)")
    load.add_argument("--users", type=number(int, 1), default=10, help="Locust users (default 10)")
    load.add_argument("--spawn-rate", type=number(float, 0), default=10.0, help="users started per second")
    load.add_argument("--user-class", choices=USER_CLASSES, default="StoryUser", help="traffic (default StoryUser)")
    load.add_argument(
        "--wait-s", type=number(float, 0), default=0.1, help="mean wait between a user's requests, 0 = flat out"
    )
    load.add_argument("--web", action="store_true", help="Locust's web UI on 127.0.0.1:8089 while it runs")
    load.add_argument("--locustfile", type=Path, default=LOCUSTFILE, help=argparse.SUPPRESS)
    lab = parser.add_argument_group("memory limit and services")
    lab.add_argument("--mem-limit", type=memory_limit, default="192M", help="API memory limit (default 192M)")
    lab.add_argument(
        "--limit-mechanism",
        choices=MECHANISMS,
        default="auto",
        help="auto: cgroup filesystem, else systemd-run scope, else a watchdog (default auto)",
    )
    lab.add_argument("--redis-maxmemory", default="64mb", help="redis-server --maxmemory (default 64mb, as Compose)")
    lab.add_argument("--no-alloc-sites", action="store_true", help="skip the tracemalloc recording of allocation sites")
    lab.add_argument(
        "--api-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra flag for leaklab api, e.g. --api-arg=--lru-max-entries=500",
    )
    parser.add_argument("--out", type=Path, help="report directory (default reports/<time>-<name>)")


def lab_options(args: argparse.Namespace) -> LabOptions:
    load = LoadOptions(
        duration_s=args.duration,
        users=args.users,
        spawn_rate=args.spawn_rate,
        user_class=args.user_class,
        wait_s=args.wait_s,
        web=args.web,
        locustfile=args.locustfile,
    )
    return LabOptions(
        load=load,
        mem_limit_bytes=args.mem_limit,
        mechanism=args.limit_mechanism,
        redis_maxmemory=args.redis_maxmemory,
        alloc_sites=not args.no_alloc_sites,
        api_args=tuple(args.api_arg),
    )


def settings_of(opts: LabOptions, modes: Sequence[str], argv: Sequence[str]) -> dict[str, Any]:
    load = asdict(opts.load)
    load["locustfile"] = str(opts.load.locustfile)
    return {
        "modes": list(modes),
        "load": load,
        "mem_limit": f"{opts.mem_limit_bytes / 1024 / 1024:.0f} MiB",
        "mem_limit_bytes": opts.mem_limit_bytes,
        "limit_mechanism_requested": opts.mechanism,
        "redis_maxmemory": opts.redis_maxmemory,
        "alloc_sites": opts.alloc_sites,
        "api_args": list(opts.api_args),
        "command": " ".join(["leaklab", *argv]),
    }


def one_line(exc: BaseException) -> str:
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def default_out(name: str) -> Path:
    return Path("reports") / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"


def check_binaries(modes: Sequence[str]) -> None:
    """Refuse a mode whose binary is missing before anything starts (``MissingBinary``)."""
    if "redis" in modes:
        require("redis-server")


def check_mechanism(opts: LabOptions) -> None:
    """A mechanism asked for by name must work here (``LimitError`` otherwise); ``auto`` always does."""
    if opts.mechanism != "auto":
        limit, _ = choose(opts.mem_limit_bytes, "probe", opts.mechanism)
        limit.close()


def _sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def execute(
    modes: Sequence[str],
    opts: LabOptions,
    out: Path,
    settings: dict[str, Any],
    skipped: Sequence[dict[str, str]] = (),
) -> int:
    """Run ``modes`` one after another, write the report, print the verdicts; 130 when interrupted."""
    from .report import write_report
    from .report.data import build_summary

    previous = signal.signal(signal.SIGTERM, _sigterm)
    if (out / "summary.json").exists():  # an earlier report in the same place: its logs would mix with ours
        shutil.rmtree(out / "logs", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    display = LiveDisplay(modes, opts.load.duration_s)
    results: list[ModeResult] = []
    interrupted = False
    announced: set[str] = set()

    def progress(result: ModeResult, sample: Any, t: float) -> None:
        if result.mode not in announced:
            announced.add(result.mode)
            where = f" [dim]{result.limit_where}[/]" if result.limit_where else ""
            limit = f"{opts.mem_limit_bytes / 1024 / 1024:.0f} MiB"
            display.note(f"[bold]{result.mode}[/]: memory limit {limit} enforced by {result.limit_description}{where}")
            for note in result.limit_notes:
                display.note(f"  [dim](not used: {note})[/]")
            if result.web_url:
                display.note(f"  Locust web UI: {result.web_url}")
        display.update(result, sample, t)

    for item in skipped:
        display.note(f"[yellow]{item['mode']} left out:[/] {item['reason']}")
    try:
        with display:
            for mode in modes:
                result = run_mode(mode, opts, out, progress)
                results.append(result)
                display.finish(result)
                if result.interrupted:
                    interrupted = True
                    break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        signal.signal(signal.SIGTERM, previous)
    summary = build_summary(results, settings, skipped, interrupted)
    page = write_report(out, summary, {r.mode: r.samples for r in results})
    console = display.console
    if summary["modes"]:
        console.print(verdict_table(summary["modes"]))
    for mode, m in summary["modes"].items():
        if m.get("note"):
            console.print(f"[yellow]{mode}: {m['note']}[/]")
    for r in results:
        if r.error:
            console.print(f"[red]{r.mode}: {r.error}[/]")
    console.print(f"report: [bold]{page}[/]" + ("  (interrupted: partial data)" if interrupted else ""))
    if interrupted:
        return 130
    return 1 if any(r.error for r in results) else 0


def main(argv: Sequence[str] | None = None, prog: str = "leaklab run") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run one cache mode under load with a real memory limit and write a report directory.",
    )
    parser.add_argument("--mode", choices=MODES, default="leaky", help="cache mode (default leaky)")
    add_lab_options(parser)
    args = parser.parse_args(argv)
    try:
        check_binaries([args.mode])
    except MissingBinary as exc:
        print(f"{prog}: error: mode {args.mode} needs {exc}", file=sys.stderr)
        return 2
    return launch([args.mode], args, argv, prog, out_name=args.mode)


def launch(
    modes: list[str],
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    prog: str,
    *,
    out_name: str,
    skipped: Sequence[dict[str, str]] = (),
) -> int:
    """Check the limit mechanism, then run ``modes`` and write the report (shared by run and compare)."""
    opts = lab_options(args)
    try:
        check_mechanism(opts)
    except LimitError as exc:
        print(f"{prog}: error: --limit-mechanism {opts.mechanism}: {one_line(exc)}", file=sys.stderr)
        return 2
    out = args.out or default_out(out_name)
    settings = settings_of(opts, modes, sys.argv[1:] if argv is None else argv)
    return execute(modes, opts, out, settings, skipped)
