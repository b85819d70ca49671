"""A benchmark round's results (data only) and their summary: medians per server and ratios within rounds.

``runner`` fills in a ``RoundResult`` per contestant and round; ``table``, ``markdown`` and
``document`` read the summary. Nothing here imports the modules that measure or render.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..units import to_mib
from .servers import SPECS
from .targets import payload_in_memory_bytes, targets


@dataclass
class RoundResult:
    """Everything measured for one contestant in one round."""

    server: str
    round: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float
    rss_start_bytes: int
    rss_after_count_bytes: int
    rss_end_bytes: int
    count_requests: int
    count_errors: int
    leaked_bytes_per_request: float
    metrics_scrape_ms: float | None = None
    metrics_scrape_max_ms: float | None = None
    cache_entries: float | None = None
    redis_maxmemory_bytes: int | None = None
    redis_max_used_memory_bytes: int | None = None
    redis_entry_bytes: int | None = None
    cache_errors: float | None = None  # API modes: leaklab_cache_errors_total (requests that went around the cache)
    extra: dict[str, Any] = field(default_factory=dict)


def summarise(results: Sequence[RoundResult], order: Sequence[str], *, payload_items: int) -> dict[str, Any]:
    """Medians per server over the rounds, and ratios taken within each round, then their median."""
    by_round: dict[int, dict[str, RoundResult]] = {}
    for result in results:
        by_round.setdefault(result.round, {})[result.server] = result

    def ratio(server: str, base: str) -> float | None:
        values = [rnd[server].rps / rnd[base].rps for rnd in by_round.values() if server in rnd and base in rnd]
        return statistics.median(values) if values else None

    rows: dict[str, dict[str, Any]] = {}
    for name in order:
        mine = [r for r in results if r.server == name]
        if not mine:
            continue

        def med(attr: str, rounds: list[RoundResult] = mine) -> float:
            return float(statistics.median(getattr(r, attr) for r in rounds))

        row: dict[str, Any] = {
            "server": name,
            "description": SPECS[name].description,
            "rounds": len(mine),
            "rps": med("rps"),
            "p50_ms": med("p50_ms"),
            "p99_ms": med("p99_ms"),
            "rss_start_mib": to_mib(med("rss_start_bytes")),
            "rss_end_mib": to_mib(med("rss_end_bytes")),
            "rss_growth_mib": to_mib(statistics.median(r.rss_end_bytes - r.rss_start_bytes for r in mine)),
            "leaked_bytes_per_request": med("leaked_bytes_per_request"),
            "leaked_mib_per_1k": to_mib(med("leaked_bytes_per_request") * 1000),
            "cpu_ms_per_request": med("cpu_ms_per_request"),
            "x_node_lru": ratio(name, "node-lru"),
            "pct_fastapi_ceiling": _pct(ratio(name, "fastapi-ceiling")),
            "errors": sum(r.errors + r.count_errors for r in mine),
        }
        scrapes = [r for r in mine if r.metrics_scrape_ms is not None]
        if scrapes:
            row["metrics_scrape_ms"] = float(statistics.median(r.metrics_scrape_ms or 0.0 for r in scrapes))
            row["metrics_scrape_max_ms"] = max(r.metrics_scrape_max_ms or 0.0 for r in scrapes)
            row["cache_entries_at_scrape"] = statistics.median(r.cache_entries or 0.0 for r in scrapes)
        if any(r.cache_errors is not None for r in mine):
            row["cache_errors"] = sum(r.cache_errors or 0.0 for r in mine)
        redis = [r for r in mine if r.redis_maxmemory_bytes is not None]
        if redis:
            row["redis_maxmemory_bytes"] = redis[0].redis_maxmemory_bytes
            row["redis_max_used_memory_bytes"] = max(r.redis_max_used_memory_bytes or 0 for r in redis)
            row["redis_entry_bytes"] = max(r.redis_entry_bytes or 0 for r in redis)
        rows[name] = row
    return {
        "rows": rows,
        "payload_in_memory_bytes": payload_in_memory_bytes(payload_items),
        "ratios": {
            "leaky_x_node_leaky": ratio("leaky", "node-leaky"),
            "asgi_ceiling_x_fastapi_ceiling": ratio("asgi-ceiling", "fastapi-ceiling"),
        },
        "targets": targets(rows, ratio, payload_in_memory_bytes(payload_items)),
    }


def _pct(value: float | None) -> float | None:
    return None if value is None else 100 * value
