"""``leaklab run --mode M``: one mode under load and a memory limit, then a report directory.

``leaklab compare`` shares the options (``options``) and the launch below (``launch``, ``execute``).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from ..procs import MissingBinary, require
from ..units import mib
from .catalogue import SCENARIOS, run_name
from .limits import LimitError, choose
from .live import LiveDisplay, verdict_table
from .options import MODES, LabOptions, add_lab_options, lab_options, settings_of
from .result import ModeResult
from .runner import run_mode


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


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Ignore SIGINT and SIGTERM inside the block (the main thread only), then restore the handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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

    if (out / "summary.json").exists():  # an earlier report in the same place: its logs would mix with ours
        shutil.rmtree(out / "logs", ignore_errors=True)
    try:
        (out / "logs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # read-only, full, or not a directory: say so before starting anything
        print(f"leaklab: error: cannot write the report directory {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _sigterm)
    display = LiveDisplay(modes, opts.load.duration_s)
    results: list[ModeResult] = []
    interrupted = False
    announced: set[str] = set()

    def progress(result: ModeResult, sample: Any, t: float) -> None:
        if result.mode not in announced:
            announced.add(result.mode)
            where = f" [dim]{result.limit_where}[/]" if result.limit_where else ""
            limit = mib(opts.mem_limit_bytes, 0)
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
    try:
        with signals_held():  # a second or two: Ctrl-C now would only leave a report half-written
            summary = build_summary(results, settings, skipped, interrupted)
            page = write_report(out, summary, {r.mode: r.samples for r in results})
    except OSError as exc:
        print(f"leaklab: error: could not write the report in {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    console = display.console
    if summary["modes"]:
        console.print(verdict_table(summary["modes"]))
    for mode, m in summary["modes"].items():
        if m["verdict"] == "inconclusive":
            console.print(f"{mode}: inconclusive: {m.get('verdict_reason')}", style="yellow", markup=False)
        if m.get("triage"):
            console.print(f"{mode}: {m['triage']}", markup=False)
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
        description=(
            "Run one cache mode (or one leak of the catalogue) under load with a real memory limit "
            "and write a report directory."
        ),
    )
    parser.add_argument("--mode", choices=MODES, default="leaky", help="cache mode (default leaky)")
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        help="a leak of the catalogue instead (docs/leaks.md); runs beside the lru cache",
    )
    parser.add_argument("--fixed", action="store_true", help="with --scenario: the scenario with its fix applied")
    add_lab_options(parser)
    args = parser.parse_args(argv)
    if args.fixed and not args.scenario:
        parser.error("--fixed needs --scenario (for the cache modes, --mode lru or redis is the fix)")
    name = run_name(args.scenario, args.fixed) if args.scenario else args.mode
    try:
        check_binaries([name])
    except MissingBinary as exc:
        print(f"{prog}: error: mode {args.mode} needs {exc}", file=sys.stderr)
        return 2
    return launch([name], args, argv, prog, out_name=name)


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
