"""The soak's pass criteria, judged from one mode's recorded run (the lab's samples and Locust's history).

Memory drift uses the verdict's own fit (``verdict.fit_memory``: the later part of the run, one line
per API process), so "bounded" means the same thing in a soak as in ``leaklab run``.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..lab.result import ModeResult
from ..lab.sampler import Sample
from ..lab.verdict import FIT_FROM, fit_memory
from ..units import MIB

MAX_DRIFT_PCT = 5.0
P99_RISE_MAX_SHARE = 0.5  # of the median p99 over the fitted part
P99_RISE_FLOOR_MS = 10.0  # rises smaller than this are noise on a shared machine
# Redis evicts before it runs each command, so INFO can catch a few hundred bytes of its own bookkeeping
# (client buffers) over the bound; less than one payload (~70 KB), so a missed eviction still fails
REDIS_SLACK_BYTES = 64 * 1024

RULES = {
    "failed_requests": "zero failed requests (Locust)",
    "memory_drift": f"RSS drift over the later part of the run (from {FIT_FROM:.0%} of it, the verdict's fit) "
    f"under {MAX_DRIFT_PCT:g}% of the RSS there",
    "redis_within_maxmemory": "Redis used_memory at or under maxmemory at every sample "
    f"(+{REDIS_SLACK_BYTES // 1024} KB for Redis' own bookkeeping, under one payload)",
    "metrics_answered": "/metrics answered at every scrape (one a second)",
    "p99_not_rising": f"p99 latency's fitted rise over the later part under {P99_RISE_MAX_SHARE:.0%} of its median "
    f"(or under {P99_RISE_FLOOR_MS:g} ms)",
}


@dataclass(frozen=True, slots=True)
class Criterion:
    name: str
    passed: bool
    figure: str
    rule: str


def judge(result: ModeResult, history_csv: Path) -> list[Criterion]:
    """Every criterion for one mode; a criterion without data (e.g. Redis in lru mode) is left out."""
    checks = [_failures(result), _drift(result.samples), _scrapes(result.samples), _p99(history_csv)]
    redis = _redis(result.samples)
    if redis is not None:
        checks.insert(2, redis)
    return checks


def to_json(criteria: Sequence[Criterion]) -> dict[str, Any]:
    return {"passed": all(c.passed for c in criteria), "criteria": [asdict(c) for c in criteria]}


def _failures(result: ModeResult) -> Criterion:
    requests = result.load.requests if result.load else 0
    failures = result.load.failures if result.load else None
    passed = failures == 0 and requests > 0 and not result.error and not result.interrupted
    figure = f"{failures} of {requests:,} failed" if failures is not None else "no load statistics"
    if result.error:
        figure += f" ({result.error.splitlines()[0]})"
    return Criterion("failed_requests", passed, figure, RULES["failed_requests"])


def _drift(samples: Sequence[Sample]) -> Criterion:
    fit = fit_memory(samples)
    if fit is None:
        return Criterion("memory_drift", False, "too few samples to fit", RULES["memory_drift"])
    window = [s.rss_bytes / MIB for s in samples if s.rss_bytes and fit.from_s <= s.t_s <= fit.to_s]
    level = statistics.fmean(window) if window else 0.0
    drift = 100 * fit.growth_mib / level if level else 0.0
    figure = (
        f"{drift:+.2f}% ({fit.growth_mib:+.2f} MiB at {fit.rate_mib_per_min:+.3f} MiB/min over "
        f"{fit.from_s:.0f}-{fit.to_s:.0f} s, RSS ~{level:.1f} MiB, R² {fit.r2:.2f})"
    )
    return Criterion("memory_drift", drift < MAX_DRIFT_PCT, figure, RULES["memory_drift"])


def _redis(samples: Sequence[Sample]) -> Criterion | None:
    pairs = [(s.redis_used_memory, s.redis_maxmemory or 0) for s in samples if s.redis_used_memory is not None]
    if not pairs:
        return None
    over = [(used, limit) for used, limit in pairs if not limit or used > limit + REDIS_SLACK_BYTES]
    peak, limit = max(pairs)
    most = max(used - limit for used, limit in pairs)
    figure = (
        f"peak {peak / MIB:.2f} MiB of {limit / MIB:.0f} MiB maxmemory (at most {most:+,} bytes from it); "
        f"{len(over)} of {len(pairs)} samples over"
    )
    return Criterion("redis_within_maxmemory", not over, figure, RULES["redis_within_maxmemory"])


def _scrapes(samples: Sequence[Sample]) -> Criterion:
    scrapes = [s for s in samples if s.api_pid]
    missed = [s for s in scrapes if not s.api_up or s.cache_entries is None]
    figure = f"{len(scrapes) - len(missed)} of {len(scrapes)} scrapes answered"
    return Criterion("metrics_answered", bool(scrapes) and not missed, figure, RULES["metrics_answered"])


def p99_history(history_csv: Path) -> list[tuple[float, float]]:
    """``(unix time, p99 ms)`` per second from Locust's ``*_stats_history.csv`` (its recent-window p99)."""
    rows: list[tuple[float, float]] = []
    try:
        with history_csv.open() as f:
            for row in csv.DictReader(f):
                if row.get("Name") == "Aggregated" and row.get("99%") not in (None, "", "N/A", "0"):
                    rows.append((float(row["Timestamp"]), float(row["99%"])))
    except (OSError, ValueError, KeyError):
        return []
    return rows


def _p99(history_csv: Path) -> Criterion:
    rows = p99_history(history_csv)
    if len(rows) < 10:
        return Criterion(
            "p99_not_rising", False, f"only {len(rows)} seconds of latency history", RULES["p99_not_rising"]
        )
    start = rows[0][0] + (rows[-1][0] - rows[0][0]) * FIT_FROM
    later = [(t, p) for t, p in rows if t >= start]
    slope = _slope(later)
    rise = slope * (later[-1][0] - later[0][0])
    median = statistics.median(p for _, p in later)
    allowed = max(P99_RISE_MAX_SHARE * median, P99_RISE_FLOOR_MS)
    figure = (
        f"median p99 {median:.0f} ms, fitted rise {rise:+.1f} ms over the later {len(later)} s (allowed {allowed:.0f})"
    )
    return Criterion("p99_not_rising", rise < allowed, figure, RULES["p99_not_rising"])


def _slope(points: Sequence[tuple[float, float]]) -> float:
    mt = statistics.fmean(t for t, _ in points)
    my = statistics.fmean(y for _, y in points)
    sxx = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (y - my) for t, y in points) / sxx if sxx else 0.0
