"""What the terminal shows while the lab runs: a progress bar per mode, then a verdict table.

On a terminal the bars update in place (rich); elsewhere (CI, a pipe) one plain line every ten seconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn
from rich.table import Table

from ..units import MIB
from ..verdict import BOUNDED, INCONCLUSIVE, LEAKING
from .result import ModeResult
from .sampler import Sample
from .triage import window_class
from .verdict import verdict_of

VERDICT_COLOURS = {LEAKING: "red", BOUNDED: "green", INCONCLUSIVE: "yellow"}


class LiveDisplay:
    """Progress of each mode: elapsed/total, memory, requests/s, failures, OOM kills, cache entries."""

    def __init__(self, modes: Sequence[str], duration_s: int, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True, highlight=False)
        if console is None and not self.console.is_terminal:
            self.console = Console(stderr=True, highlight=False, width=150)  # a pipe or CI log: no wrapping
        self.duration_s = duration_s
        self.interactive = self.console.is_terminal
        self.progress = Progress(
            TextColumn("[bold]{task.description:<5}"),
            BarColumn(bar_width=12),
            TextColumn("{task.completed:>3.0f}/{task.total:.0f}s"),
            TextColumn("{task.fields[status]}"),
            console=self.console,
            disable=not self.interactive,
        )
        self.tasks: dict[str, TaskID] = {
            m: self.progress.add_task(m, total=duration_s, status="[dim]waiting") for m in modes
        }
        self._last_line = -10.0

    def __enter__(self) -> LiveDisplay:
        self.progress.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.progress.stop()

    def note(self, message: str) -> None:
        self.console.print(message)

    def update(self, result: ModeResult, sample: Sample, t: float) -> None:
        status = _status(result, sample)
        self.progress.update(self.tasks[result.mode], completed=min(t, self.duration_s), status=status)
        if not self.interactive and t - self._last_line >= 10:
            self._last_line = t
            self.console.print(f"{result.mode:<6} {t:4.0f}/{self.duration_s}s  {_plain(status)}")

    def finish(self, result: ModeResult) -> None:
        self._last_line = -10.0
        state = "[red]interrupted" if result.interrupted else "[red]error" if result.error else "[green]done"
        self.progress.update(
            self.tasks[result.mode],
            completed=self.duration_s if not result.interrupted else None,
            status=f"{state}[/]  OOM kills {result.oom_kills}, restarts {result.restarts}",
        )
        if not self.interactive:
            self.console.print(f"{result.mode:<6} {_plain(state)}: OOM kills {result.oom_kills}")


def _status(result: ModeResult, s: Sample) -> str:
    mem = f"{s.rss_bytes / MIB:4.0f}" if s.rss_bytes else "down"
    up = "" if s.api_up else " [red](API down)[/]"
    entries = f"{s.cache_entries:,.0f}" if s.cache_entries is not None else "–"
    return (
        f"{mem}/{s.limit_bytes / MIB:.0f} MiB{up} {s.rps or 0:4.0f} req/s {s.failures_total or 0:>5,} failed "
        f"{s.oom_kills} OOM  {entries} entries"
        + (" [magenta]tracing[/]" if s.tracing else "")
        + f"  {live_verdict(result, s.oom_kills)}"
    )


def live_verdict(result: ModeResult, oom_kills: int) -> str:
    """The judge's verdict on the samples so far, in a few words; the class once the tracemalloc window saw it."""
    v = verdict_of(result.samples, oom_kills)
    if v.verdict == LEAKING:
        rate = f" {v.rate_mib_per_min:,.1f} MiB/min" if v.rate_mib_per_min is not None else ""
        seen = window_class(result.alloc) if result.alloc else None  # known once the tracemalloc window ended
        return f"[red]leaking{rate}[/]" + (f" [cyan]({seen})[/]" if seen else "")
    if v.verdict == BOUNDED:
        return "[green]bounded[/]"
    return "[dim]too short to tell[/]" if not v.points else "[yellow]can't tell yet[/]"


def _plain(markup: str) -> str:
    from rich.text import Text

    return Text.from_markup(markup).plain


def verdict_table(modes: dict[str, Any]) -> Table:
    table = Table(
        title="leaklab verdict",
        title_justify="left",
        caption="memory: the API's RSS at start → peak → end, MiB; failed: requests Locust saw fail",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for column in ("mode", "verdict", "class", "MiB/min", "memory", "OOM kills", "requests", "failed", "p95 ms"):
        table.add_column(column, justify="left" if column in ("mode", "verdict", "class") else "right", no_wrap=True)
    for mode, m in modes.items():
        colour = VERDICT_COLOURS.get(m["verdict"], "yellow")
        rate = m.get("leak_rate_mib_per_min")
        table.add_row(
            mode,
            f"[bold {colour}]{m['verdict']}[/]",
            m.get("leak_class") or "–",
            "–" if rate is None else f"{rate:,.1f}",
            f"{_f(m.get('rss_start_mib'))}→{_f(m.get('rss_peak_mib'))}→{_f(m.get('rss_end_mib'))}",
            str(m.get("oom_kills", 0)),
            f"{m.get('requests') or 0:,}",
            f"{m.get('failures') or 0:,}",
            _f(m.get("p95_ms")),
        )
    return table


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:,.0f}"
