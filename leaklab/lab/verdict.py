"""A mode's verdict and figures, from its samples: the lab's readings handed to the one judge (``leaklab.verdict``).

The lab knows more than a bare memory series, and tells the judge: which API process took each reading
(a restart starts a new line), the OOM kills, the tracemalloc windows to leave out, when the load
started, how full the bounded cache is (warm-up lasts until it is full), the number of series on
``/metrics`` and the requests Locust sent. The rest of the summary (memory, cache and Redis figures)
is read off the samples.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from ..units import to_mib
from ..verdict import Context, Series, Verdict, judge
from .sampler import Sample, load_seen


def context(samples: Sequence[Sample], oom_kills: int, tolerance_mib_per_min: float | None = None) -> Context:
    """What the lab knows of a run beside its memory readings, for the judge."""
    load_from = next((s.t_s for s in samples if load_seen(s)), None)
    series = [s for s in samples if s.metric_series is not None]
    limit = next((s.limit_bytes for s in reversed(samples) if s.limit_bytes), None)
    return Context(
        oom_kills=oom_kills,
        excluded_s=tracing_windows(samples),
        load_s=(load_from, None) if load_from is not None else None,
        fill=fill(samples),
        metric_series=Series([s.t_s for s in series], [s.metric_series for s in series], [s.api_pid for s in series])
        if series
        else None,
        requests=[(s.t_s, float(s.requests_total)) for s in samples if s.requests_total is not None],
        limit_bytes=float(limit) if limit else None,
        tolerance_mib_per_min=tolerance_mib_per_min,
    )


def memory(samples: Sequence[Sample]) -> Series:
    """The API's resident memory, reading by reading, with the process that took it."""
    return Series([s.t_s for s in samples], [s.rss_bytes for s in samples], [s.api_pid for s in samples])


def verdict_of(samples: Sequence[Sample], oom_kills: int, tolerance_mib_per_min: float | None = None) -> Verdict:
    return judge(memory(samples), context(samples, oom_kills, tolerance_mib_per_min))


def tracing_windows(samples: Sequence[Sample]) -> list[tuple[float, float]]:
    """``(first, last)`` time of each run of samples taken while tracemalloc recorded."""
    windows: list[tuple[float, float]] = []
    start: float | None = None
    last = 0.0
    for s in samples:
        if s.tracing and start is None:
            start = s.t_s
        elif not s.tracing and start is not None:
            windows.append((start, last))
            start = None
        last = s.t_s
    if start is not None:
        windows.append((start, last))
    return windows


def analyse(samples: Sequence[Sample], oom_kills: int, tolerance_mib_per_min: float | None = None) -> dict[str, Any]:
    """The sample-derived part of a mode's summary: the verdict with its figures, memory, cache and Redis."""
    v = verdict_of(samples, oom_kills, tolerance_mib_per_min)
    rss = [to_mib(s.rss_bytes) for s in samples if s.rss_bytes]
    cgroup = [to_mib(s.cgroup_bytes) for s in samples if s.cgroup_bytes]
    tail = rss[-max(1, len(rss) // 4) :]
    last = samples[-1] if samples else None
    hits, misses = _last(samples, "hits_total"), _last(samples, "misses_total")
    series = [s.metric_series for s in samples if s.metric_series is not None and s.api_pid]
    redis_used = [s.redis_used_memory for s in samples if s.redis_used_memory is not None]
    return {
        "verdict": v.verdict,
        "verdict_rules": list(v.rules),
        "verdict_reason": v.reason or None,
        "leak_rate_mib_per_min": v.rate_mib_per_min,
        "leak_rate_interval_mib_per_min": [v.rate_low_mib_per_min, v.rate_high_mib_per_min]
        if v.rate_low_mib_per_min is not None
        else None,
        "fit_r2": v.r2,
        "fit_window_s": [v.from_s, v.to_s] if v.from_s is not None else None,
        "fit_coverage": v.coverage,
        "levelled_off": v.levelled,
        "seconds_to_limit": v.seconds_to_limit,
        "rss_start_mib": _r(rss[0]) if rss else None,
        "rss_peak_mib": _r(max(rss)) if rss else None,
        "rss_end_mib": _r(rss[-1]) if rss else None,
        "rss_plateau_mib": _r(statistics.median(tail)) if tail else None,
        "limit_mib": _r(to_mib(last.limit_bytes)) if last and last.limit_bytes else None,
        "cgroup_peak_mib": _r(max(cgroup)) if cgroup else None,
        "oom_kills": oom_kills,
        "metric_series_start": series[0] if series else None,
        "metric_series_end": series[-1] if series else None,
        "metric_series_growth": series[-1] - series[0] if series else None,
        "cache_entries_end": _last(samples, "cache_entries"),
        "cache_entries_peak": max((s.cache_entries for s in samples if s.cache_entries is not None), default=None),
        "hit_ratio": round(hits / (hits + misses), 4)
        if hits is not None and misses is not None and hits + misses > 0
        else None,
        "evictions": _last(samples, "evictions_total"),
        "cache_errors": _last(samples, "errors_total"),
        "redis_used_memory_peak_bytes": max(redis_used) if redis_used else None,
        "redis_maxmemory_bytes": _last(samples, "redis_maxmemory"),
        "redis_evicted_keys": _last(samples, "redis_evicted_keys"),
    }


def fill(samples: Sequence[Sample]) -> list[tuple[float, float]]:
    """``(t, entries / bound)`` of the bounded cache, where the API reports a bound."""
    return [
        (s.t_s, s.cache_entries / s.cache_limit_entries)
        for s in samples
        if s.cache_entries is not None and s.cache_limit_entries
    ]


def _last(samples: Sequence[Sample], name: str) -> Any:
    for s in reversed(samples):
        value = getattr(s, name)
        if value is not None:
            return value
    return None


def _r(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
