"""The experiment every run command shares: run each target in turn, then write the report directory.

``leaklab run`` (the lab's API, or ``--app``/``--cmd``), ``leaklab compare`` and ``leaklab check`` all
go through ``experiment``; they differ only in what they print of its ``Outcome`` (``run.py``, ``check.py``).
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from rich.console import Console

from ..units import mib
from .limits import choose
from .live import LiveDisplay
from .options import LabOptions
from .result import ModeResult
from .runner import run_target
from .target import ApiTarget, Target


class RunError(RuntimeError):
    """The experiment could not write its report; ``code`` is the exit code, the message one line."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(slots=True)
class Outcome:
    """What an experiment ran and wrote: a result per target, the report's summary and page."""

    results: list[ModeResult]
    summary: dict[str, Any]
    page: Path
    interrupted: bool
    console: Console


def one_line(exc: BaseException) -> str:
    return "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())


def default_out(name: str) -> Path:
    return Path("reports") / f"{time.strftime('%Y%m%d-%H%M%S')}-{name}"


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


def announce(display: LiveDisplay, result: ModeResult, limit_bytes: int, about: dict[str, Any] | None = None) -> None:
    """How the memory limit is enforced, said once per run before its first progress line: one short line
    each for the limit, who enforces it and where its cgroup is, so that at 80 columns nothing wraps into a
    fragment (the cgroup's path alone may be longer than the terminal)."""
    display.note(f"[bold]{result.mode}[/]: memory limit {mib(limit_bytes, 0)}")
    display.note(f"  enforced by {result.limit_description}")
    if result.limit_where:  # a long path is left for the terminal to wrap, whole, rather than folded
        display.console.print(f"  [dim]its cgroup: {result.limit_where}[/]", soft_wrap=True)
    for note in result.limit_notes:
        display.note(f"  [dim](not used: {note})[/]")
    if about is not None:
        display.note(f"  {about['headline']}")
    if result.web_url:
        display.note(f"  Locust web UI: {result.web_url}")


def run_targets(
    targets: Sequence[Target], opts: LabOptions, out: Path, display: LiveDisplay
) -> tuple[list[ModeResult], bool]:
    """Run ``targets`` one after another under ``display`` (SIGTERM counts as Ctrl-C); the results and whether
    the run was interrupted. Shared by run, compare, check and soak."""
    previous = signal.signal(signal.SIGTERM, _sigterm)
    results: list[ModeResult] = []
    announced: set[str] = set()
    current: list[Target] = []

    def progress(result: ModeResult, sample: Any, t: float) -> None:
        if result.mode not in announced:
            announced.add(result.mode)
            announce(display, result, opts.mem_limit_bytes, current[-1].describe() if current else None)
        display.update(result, sample, t)

    try:
        with display:
            for target in targets:
                current.append(target)
                result = run_target(target, opts, out, progress)
                results.append(result)
                if result.started or not target.own:  # a service that never came up: its one line says why
                    display.finish(result)
                if result.interrupted:
                    return results, True
    except KeyboardInterrupt:
        return results, True
    finally:
        signal.signal(signal.SIGTERM, previous)
    return results, False


def run_modes(modes: Sequence[str], opts: LabOptions, out: Path, display: LiveDisplay) -> tuple[list[ModeResult], bool]:
    """``run_targets`` on the lab's own API, one target per cache mode or catalogue run (the soak's loop)."""
    return run_targets([ApiTarget(mode, opts) for mode in modes], opts, out, display)


def write_run_report(
    out: Path,
    results: Sequence[ModeResult],
    settings: dict[str, Any],
    skipped: Sequence[dict[str, str]],
    interrupted: bool,
    targets: Sequence[Target] = (),
) -> tuple[dict[str, Any], Path]:
    """The report directory for ``results``: its summary and the page; ``OSError`` when it cannot be written."""
    with signals_held():  # a second or two: Ctrl-C now would only leave a report half-written
        from .report import write_report  # matplotlib and the rest: imported only by a run that gets this far
        from .report.data import build_summary

        summary = build_summary(results, settings, skipped, interrupted)
        described = {t.name: about for t in targets if (about := t.describe()) is not None}
        if described:
            summary["targets"] = described
        page = write_report(out, summary, {r.mode: r.samples for r in results})
    return summary, page


def experiment(
    targets: Sequence[Target],
    opts: LabOptions,
    out: Path,
    settings: dict[str, Any],
    skipped: Sequence[dict[str, str]] = (),
    console: Console | None = None,
) -> Outcome:
    """Run ``targets`` one after another and write the report (``RunError`` if it cannot be written)."""
    if (out / "summary.json").exists():  # an earlier report in the same place: its logs would mix with ours
        shutil.rmtree(out / "logs", ignore_errors=True)
    try:
        (out / "logs").mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # read-only, full, or not a directory: say so before starting anything
        raise RunError(f"cannot write the report directory {out}: {exc.strerror or exc}", 2) from None
    display = LiveDisplay([t.name for t in targets], opts.load.duration_s, console)
    for item in skipped:
        display.note(f"[yellow]{item['mode']} left out:[/] {item['reason']}")
    results, interrupted = run_targets(targets, opts, out, display)
    try:
        summary, page = write_run_report(out, results, settings, skipped, interrupted, targets)
    except OSError as exc:
        raise RunError(f"could not write the report in {out}: {exc.strerror or exc}", 1) from None
    return Outcome(results, summary, page, interrupted, display.console)
