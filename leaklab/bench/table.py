"""The benchmark's table: one row per server, in the terminal (rich) and as cells for BENCHMARKS.md."""

from __future__ import annotations

from typing import Any

from ..units import MIB
from .results import RoundResult

COLUMNS = (
    ("server", "server"),
    ("rps", "req/s"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("rss_start_mib", "RSS start MiB"),
    ("rss_end_mib", "RSS end MiB"),
    ("leaked_mib_per_1k", "MiB leaked /1k req"),
    ("cpu_ms_per_request", "CPU ms/req"),
    ("x_node_lru", "× node-lru"),
    ("pct_fastapi_ceiling", "% FastAPI ceiling"),
    ("errors", "errors"),
)


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "–"
    if key == "server":
        return str(value)
    if key in ("rps", "errors"):
        return f"{value:,.0f}"
    if key == "x_node_lru":
        return f"{value:.2f}x"
    if key == "pct_fastapi_ceiling":
        return f"{value:.0f}%"
    if key in ("rss_start_mib", "rss_end_mib", "p99_ms"):
        return f"{value:,.1f}"
    if key == "leaked_mib_per_1k":
        return f"{value:.2f}"
    if key == "cpu_ms_per_request":
        return f"{value:.3f}"
    return f"{value:.2f}"


def table_rows(doc: dict[str, Any]) -> list[list[str]]:
    return [[_cell(key, row.get(key)) for key, _ in COLUMNS] for row in doc["summary"]["rows"].values()]


def target_lines(doc: dict[str, Any]) -> list[tuple[str, str, str]]:
    verdict = {True: "met", False: "MISSED", None: "not measured"}
    return [(t["target"], t["shown"], verdict[t["met"]]) for t in doc["summary"]["targets"]]


def print_table(doc: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    settings = doc["settings"]
    title = (
        f"leaklab bench: medians of {settings['rounds']} round(s), {settings['load_tool']} "
        f"-c{settings['connections']} for {settings['duration_s']:g}s; "
        f"memory from {settings['fixed_count_requests']:,} requests"
    )
    table = Table(title=title, title_justify="left")
    for key, header in COLUMNS:
        table.add_column(header, justify="left" if key == "server" else "right", no_wrap=key == "server")
    for cells in table_rows(doc):
        table.add_row(*cells)
    console = Console()
    if not console.is_terminal:  # a log file or a pipe: don't squeeze the table into 80 columns
        console = Console(width=160)
    console.print(table)
    checks = Table(title="targets", title_justify="left")
    for header in ("target", "measured", "verdict"):
        checks.add_column(header)
    for name, shown, verdict in target_lines(doc):
        checks.add_row(name, shown, f"[green]{verdict}[/]" if verdict == "met" else f"[red]{verdict}[/]")
    console.print(checks)
    for note in doc["notes"]:
        console.print(f"note: {note}")


def progress_line(result: RoundResult) -> str:
    line = (
        f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
        f"CPU {result.cpu_ms_per_request:.3f} ms/req, RSS {result.rss_start_bytes / MIB:.0f} -> "
        f"{result.rss_end_bytes / MIB:.0f} MiB, {result.leaked_bytes_per_request:,.0f} B/req kept"
    )
    if result.metrics_scrape_ms is not None:
        line += f", /metrics {result.metrics_scrape_ms:.2f} ms"
    return line
