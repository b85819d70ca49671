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
from .sampler import Sample


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


def announce(display: LiveDisplay, result: ModeResult, limit_bytes: int) -> None:
    """How the memory limit is enforced, said once per mode before its first progress line: one short line
    each for the limit, who enforces it and where its cgroup is, so that at 80 columns nothing wraps into a
    fragment (the cgroup's path alone may be longer than the terminal)."""
    display.note(f"[bold]{result.mode}[/]: memory limit {mib(limit_bytes, 0)}")
    display.note(f"  enforced by {result.limit_description}")
    if result.limit_where:  # a long path is left for the terminal to wrap, whole, rather than folded
        display.console.print(f"  [dim]its cgroup: {result.limit_where}[/]", soft_wrap=True)
    for note in result.limit_notes:
        display.note(f"  [dim](not used: {note})[/]")
    if result.web_url:
        display.note(f"  Locust web UI: {result.web_url}")


def run_modes(modes: Sequence[str], opts: LabOptions, out: Path, display: LiveDisplay) -> tuple[list[ModeResult], bool]:
    """Run ``modes`` one after another under ``display`` (SIGTERM counts as Ctrl-C); the results and whether
    the run was interrupted. Shared by run, compare and soak."""
    previous = signal.signal(signal.SIGTERM, _sigterm)
    results: list[ModeResult] = []
    announced: set[str] = set()

    def progress(result: ModeResult, sample: Sample, t: float) -> None:
        if result.mode not in announced:
            announced.add(result.mode)
            announce(display, result, opts.mem_limit_bytes)
        display.update(result, sample, t)

    try:
        with display:
            for mode in modes:
                result = run_mode(mode, opts, out, progress)
                results.append(result)
                display.finish(result)
                if result.interrupted:
                    return results, True
    except KeyboardInterrupt:
        return results, True
    finally:
        signal.signal(signal.SIGTERM, previous)
    return results, False


def write_run_report(
    out: Path,
    results: Sequence[ModeResult],
    settings: dict[str, Any],
    skipped: Sequence[dict[str, str]],
    interrupted: bool,
) -> tuple[dict[str, Any], Path]:
    """The report directory for ``results``: its summary and the page; ``OSError`` when it cannot be written."""
    with signals_held():  # a second or two: Ctrl-C now would only leave a report half-written
        from .report import write_report  # matplotlib and the rest: imported only by a run that gets this far
        from .report.data import build_summary

        summary = build_summary(results, settings, skipped, interrupted)
        page = write_report(out, summary, {r.mode: r.samples for r in results})
    return summary, page


def execute(
    modes: Sequence[str],
    opts: LabOptions,
    out: Path,
    settings: dict[str, Any],
    skipped: Sequence[dict[str, str]] = (),
) -> int:
    """Run ``modes`` one after another, write the report, print the verdicts; 130 when interrupted."""
    if (out / "summary.json").exists():  # an earlier report in the same place: its logs would mix with ours
        shutil.rmtree(out / "logs", ignore_errors=True)
    try:
        (out / "logs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # read-only, full, or not a directory: say so before starting anything
        print(f"leaklab: error: cannot write the report directory {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    display = LiveDisplay(modes, opts.load.duration_s)
    for item in skipped:
        display.note(f"[yellow]{item['mode']} left out:[/] {item['reason']}")
    results, interrupted = run_modes(modes, opts, out, display)
    try:
        summary, page = write_run_report(out, results, settings, skipped, interrupted)
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
