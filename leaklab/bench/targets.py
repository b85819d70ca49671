"""The benchmark's targets: what each mode should reach against the Node.js server and the ceilings."""

from __future__ import annotations

import sys
from typing import Any

from ..units import MIB


def payload_in_memory_bytes(payload_items: int) -> int:
    """Size of one cached body as a Python ``bytes`` object (what each leaked entry costs at least)."""
    from leaklab_api.origin import Origin

    return sys.getsizeof(Origin(payload_items, 0).body)


def targets(rows: dict[str, dict[str, Any]], ratio: Any, payload_bytes: int) -> list[dict[str, Any]]:
    """The benchmark's targets, each with what this run measured and whether it met it."""
    out: list[dict[str, Any]] = []

    def add(name: str, measured: float | None, ok: bool | None, shown: str) -> None:
        out.append({"target": name, "measured": measured, "met": ok, "shown": shown if measured is not None else "n/a"})

    def at_least(name: str, value: float | None, goal: float, unit: str = "x") -> None:
        shown = f"{value:.2f}{unit}" if value is not None else "n/a"
        add(name, value, None if value is None else value >= goal, shown)

    at_least("lru >= 2.5x node-lru req/s", ratio("lru", "node-lru"), 2.5)
    lru_ceiling = ratio("lru", "fastapi-ceiling")
    add(
        "lru >= 60% of the FastAPI ceiling",
        lru_ceiling,
        None if lru_ceiling is None else lru_ceiling >= 0.6,
        f"{100 * lru_ceiling:.0f}%" if lru_ceiling is not None else "",
    )
    redis_ratio = ratio("redis", "node-lru")
    went_around = rows.get("redis", {}).get("cache_errors", 0.0)
    if went_around:  # requests that skipped Redis are cheaper: the ratio would flatter the API
        add(
            "redis >= 1.2x node-lru req/s",
            redis_ratio,
            False,
            f"{redis_ratio or 0:.2f}x, but {went_around:,.0f} requests went around Redis (cache errors)",
        )
    else:
        at_least("redis >= 1.2x node-lru req/s", redis_ratio, 1.2)
    at_least("leaky >= 1.5x node-leaky req/s", ratio("leaky", "node-leaky"), 1.5)
    if "leaky" in rows:
        leaked = rows["leaky"]["leaked_bytes_per_request"]
        off = leaked / payload_bytes - 1
        add(
            f"leaky leaks within 10% of the payload's {payload_bytes:,} bytes per request",
            leaked,
            abs(off) <= 0.10,
            f"{leaked:,.0f} B ({100 * off:+.1f}%)",
        )
    for mode in ("lru", "redis"):
        if mode in rows:
            growth = rows[mode]["rss_growth_mib"]
            add(
                f"{mode}: API memory growth over the run <= 64 MiB",
                growth,
                growth <= 64,
                f"{growth:+.1f} MiB (end {rows[mode]['rss_end_mib']:.0f} MiB)",
            )
    if "redis" in rows and "redis_maxmemory_bytes" in rows["redis"]:
        r = rows["redis"]
        over = r["redis_max_used_memory_bytes"] - r["redis_maxmemory_bytes"]
        entry = r["redis_entry_bytes"] or payload_bytes
        add(
            "Redis used_memory <= maxmemory + one entry",
            float(over),
            over <= entry,
            f"peak {r['redis_max_used_memory_bytes'] / MIB:.2f} MiB, {over:+,} B vs maxmemory (entry {entry:,} B)",
        )
    scrapes = {
        m: rows[m]["metrics_scrape_ms"] for m in ("leaky", "lru", "redis") if "metrics_scrape_ms" in rows.get(m, {})
    }
    if scrapes:
        worst = max(scrapes.values())
        shown = ", ".join(f"{m} {v:.2f} ms" for m, v in scrapes.items())
        add("/metrics scrape < 5 ms with a full cache (median of 20)", worst, worst < 5, shown)
    return out
