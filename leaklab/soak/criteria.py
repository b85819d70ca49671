"""The soak's pass criteria, judged from one mode's recorded run (the lab's samples and Locust's history).

Memory is the lab's verdict itself (``lab.verdict.verdict_of``, the one judge): the soak passes it only when
the judge calls the run bounded, so "bounded" means the same in a soak as in ``leaklab run``, the report
and ``leaklab check``. The soak adds its own criteria on top: no failed request, Redis within maxmemory,
every scrape answered, p99 latency not climbing.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..lab.result import ModeResult
from ..lab.sampler import Sample
from ..lab.verdict import verdict_of
from ..units import MIB
from ..verdict import BOUNDED
from ..verdict.fit import line

P99_FROM = 0.4  # p99 is fitted over the run from this share of it: the first requests warm the API up
P99_RISE_MAX_SHARE = 0.5  # of the median p99 over the fitted part
P99_RISE_FLOOR_MS = 10.0  # rises smaller than this are noise on a shared machine
# Redis evicts before it runs each command, so INFO can catch a few hundred bytes of its own bookkeeping
# (client buffers) over the bound; less than one payload (~68 KiB), so a missed eviction still fails
REDIS_SLACK_BYTES = 64 * 1024

RULES = {
    "failed_requests": "zero failed requests (Locust)",
    "memory_bounded": "the lab's verdict on resident memory is bounded (the one judge: leaklab judge, the report)",
    "redis_within_maxmemory": "Redis used_memory at or under maxmemory at every sample "
    f"(+{REDIS_SLACK_BYTES // 1024} KiB for Redis' own bookkeeping, under one payload)",
    "metrics_answered": "/metrics answered every time it was asked (about once a second; less often while the page "
    "is slow to render or tracemalloc records)",
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
    checks = [_failures(result), _memory(result), _scrapes(result.samples), _p99(history_csv)]
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


def _memory(result: ModeResult) -> Criterion:
    v = verdict_of(result.samples, result.oom_kills)
    figure = f"{v.verdict}: {v.reason}"
    return Criterion("memory_bounded", v.verdict == BOUNDED, figure, RULES["memory_bounded"])


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
    asked = [s for s in samples if s.scraped]
    missed = [s for s in asked if not s.api_up or s.cache_entries is None]
    figure = f"{len(asked) - len(missed)} of {len(asked)} scrapes answered"
    return Criterion("metrics_answered", bool(asked) and not missed, figure, RULES["metrics_answered"])


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
    start = rows[0][0] + (rows[-1][0] - rows[0][0]) * P99_FROM
    later = [(t, p) for t, p in rows if t >= start]
    fitted = line(np.array([t for t, _ in later]), np.array([p for _, p in later]))
    rise = fitted.slope * (later[-1][0] - later[0][0]) if fitted else 0.0
    median = statistics.median(p for _, p in later)
    allowed = max(P99_RISE_MAX_SHARE * median, P99_RISE_FLOOR_MS)
    figure = (
        f"median p99 {median:.0f} ms, fitted rise {rise:+.1f} ms over the later {len(later)} s (allowed {allowed:.0f})"
    )
    return Criterion("p99_not_rising", rise < allowed, figure, RULES["p99_not_rising"])
