"""Leaking or bounded? Decided from the memory samples, with thresholds the report prints.

A bounded cache still makes memory grow at first (the cache fills, the allocator warms up) and then
levels off: a plateau above the start is not a leak. So the slope is fitted only over the later part
of the run, within each API process (a restart starts a new line), and a leak needs all of: a slope
above a rate, a good fit (memory rises steadily, not noise) and growth worth noticing. An OOM kill is
a leak by itself: memory reached the limit. So is a ``/metrics`` page whose series count climbs with the
traffic (``series.py``): a label leak, whose few KB per request the memory fit can miss.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..units import to_mib
from .fit import pooled_line
from .fit import segments as cut
from .sampler import Sample
from .series import (
    MIN_SERIES_GROWTH,
    MIN_SERIES_POINTS,
    MIN_SERIES_R2,
    SERIES_RULE,
    fit_series,
    series_leak,
    series_reason,
)

FIT_FROM = 0.4  # fit over the run after this fraction of its duration
MIN_RATE_MIB_PER_MIN = 2.0
MIN_R2 = 0.6
MIN_GROWTH_MIB = 3.0
AFTER_TRACING_S = 1.5  # samples this soon after a tracemalloc window are left out
WARMUP_S = 2.0  # start-up and the first cache fill are never part of the fit

THRESHOLDS: dict[str, Any] = {
    "fit_from_fraction_of_run": FIT_FROM,
    "min_leak_rate_mib_per_min": MIN_RATE_MIB_PER_MIN,
    "min_r2": MIN_R2,
    "min_growth_mib": MIN_GROWTH_MIB,
    "fit_starts_after_tracing_s": AFTER_TRACING_S,
    "fit_skips_first_s": WARMUP_S,
    "min_series_growth": MIN_SERIES_GROWTH,
    "min_series_r2": MIN_SERIES_R2,
    "min_series_scrapes": MIN_SERIES_POINTS,
    "rule": (
        "leaking if the API was OOM-killed, or if over the later part of the run resident memory rose by at "
        f"least {MIN_RATE_MIB_PER_MIN} MiB/min with a linear fit R² of at least {MIN_R2} and a fitted growth "
        f"of at least {MIN_GROWTH_MIB} MiB, {SERIES_RULE}; bounded otherwise. The memory fit leaves out the "
        f"tracemalloc window (and {AFTER_TRACING_S:g} s after it): tracing allocations costs memory of its own. If "
        "the later part of the run has too few samples left, the whole run is used, except its first "
        f"{WARMUP_S:g} s"
    ),
}


@dataclass(frozen=True, slots=True)
class Fit:
    rate_mib_per_min: float
    r2: float
    growth_mib: float
    points: int
    from_s: float
    to_s: float


def fit_memory(samples: Sequence[Sample]) -> Fit | None:
    """Least-squares slope of RSS over time over the later part of the run, one intercept per segment.

    A segment is one API process between restarts and between tracemalloc windows: the window itself
    and the seconds after it are left out (tracing and its snapshot cost memory that is not the app's).
    """
    points: list[tuple[float, float, tuple[int, int]]] = []
    every: list[tuple[float, float, tuple[int, int]]] = []
    phase, tracing, trace_end = 0, False, None
    for s in samples:
        if not s.rss_bytes or not s.api_pid or s.t_s < WARMUP_S:
            continue
        if s.tracing:
            tracing = True
            every.append((s.t_s, to_mib(s.rss_bytes), (s.api_pid, phase)))
            continue
        if tracing:
            tracing, phase, trace_end = False, phase + 1, s.t_s
        every.append((s.t_s, to_mib(s.rss_bytes), (s.api_pid, phase)))
        if trace_end is None or s.t_s >= trace_end + AFTER_TRACING_S:
            points.append((s.t_s, to_mib(s.rss_bytes), (s.api_pid, phase)))
    start = samples[-1].t_s * FIT_FROM if samples else 0.0
    segments: list[list[tuple[float, float]]] = []
    # the later part without tracing; else the whole run without tracing; else every sample (a very short
    # run), still with a new line after the tracing window, whose snapshot leaves memory behind
    for candidates in ([p for p in points if p[0] >= start], points, every):
        segments = [seg for seg in cut(candidates) if len(seg) >= 3]
        if segments:
            break
    if not segments:
        return None
    line = pooled_line(segments)
    if line is None:
        return None
    slope, r2, span = line  # MiB per second
    return Fit(
        rate_mib_per_min=round(slope * 60, 3),
        r2=round(r2, 4),
        growth_mib=round(slope * span, 2),
        points=sum(len(seg) for seg in segments),
        from_s=round(segments[0][0][0], 1),
        to_s=round(segments[-1][-1][0], 1),
    )


def analyse(samples: Sequence[Sample], oom_kills: int) -> dict[str, Any]:
    """The sample-derived part of a mode's summary: verdict, fit, memory, cache and Redis figures."""
    rss = [to_mib(s.rss_bytes) for s in samples if s.rss_bytes]
    cgroup = [to_mib(s.cgroup_bytes) for s in samples if s.cgroup_bytes]
    fit, series = fit_memory(samples), fit_series(samples)
    rules: dict[str, str] = {}  # every rule that holds, and why
    if oom_kills > 0:
        rules["oom"] = f"the API was OOM-killed {oom_kills} time{'s' if oom_kills != 1 else ''}"
    if (
        fit is not None
        and fit.rate_mib_per_min >= MIN_RATE_MIB_PER_MIN
        and fit.r2 >= MIN_R2
        and fit.growth_mib >= MIN_GROWTH_MIB
    ):
        rules["memory"] = f"resident memory rose {fit.rate_mib_per_min:,.1f} MiB/min (R² {fit.r2:.2f})"
    if series is not None and series_leak(series):
        rules["series"] = series_reason(series)
    leaking = bool(rules)
    entries, bound = _last(samples, "cache_entries"), _last(samples, "cache_limit_entries")
    note = None
    if leaking and not oom_kills and bound and entries is not None and entries < bound:
        note = (
            f"the cache is bounded ({bound:,.0f} entries) and was still filling ({entries:,.0f} at the end): "
            "run longer to see whether memory levels off once it is full"
        )
    tail = rss[-max(1, len(rss) // 4) :]
    last = samples[-1] if samples else None
    hits = _last(samples, "hits_total")
    misses = _last(samples, "misses_total")
    limit = to_mib(last.limit_bytes) if last and last.limit_bytes else None
    end = rss[-1] if rss else None
    rate = fit.rate_mib_per_min if fit else None
    redis_used = [s.redis_used_memory for s in samples if s.redis_used_memory is not None]
    return {
        "verdict": "leaking" if leaking else "bounded",
        "verdict_rules": list(rules),
        "verdict_reason": "; ".join(rules.values()) if rules else None,
        "note": note,
        "leak_rate_mib_per_min": rate,
        "fit_r2": fit.r2 if fit else None,
        "fit_growth_mib": fit.growth_mib if fit else None,
        "fit_window_s": [fit.from_s, fit.to_s] if fit else None,
        "rss_start_mib": _r(rss[0]) if rss else None,
        "rss_peak_mib": _r(max(rss)) if rss else None,
        "rss_end_mib": _r(end),
        "rss_plateau_mib": _r(statistics.median(tail)) if tail else None,
        "limit_mib": _r(limit),
        "cgroup_peak_mib": _r(max(cgroup)) if cgroup else None,
        "seconds_to_limit": _r(max(0.0, limit - end) / rate * 60)
        if leaking and rate and rate > 0 and limit and end
        else None,
        "oom_kills": oom_kills,
        "metric_series_start": series.start if series else None,
        "metric_series_end": series.end if series else None,
        "metric_series_growth": series.growth if series else None,
        "metric_series_fit_r2": series.r2 if series else None,
        "metric_series_per_request": series.per_request if series else None,
        "cache_entries_end": _last(samples, "cache_entries"),
        "cache_entries_peak": max((s.cache_entries for s in samples if s.cache_entries is not None), default=None),
        "hit_ratio": round(hits / (hits + misses), 4) if hits is not None and misses and hits + misses > 0 else None,
        "evictions": _last(samples, "evictions_total"),
        "cache_errors": _last(samples, "errors_total"),
        "redis_used_memory_peak_bytes": max(redis_used) if redis_used else None,
        "redis_maxmemory_bytes": _last(samples, "redis_maxmemory"),
        "redis_evicted_keys": _last(samples, "redis_evicted_keys"),
    }


def _last(samples: Sequence[Sample], name: str) -> Any:
    for s in reversed(samples):
        value = getattr(s, name)
        if value is not None:
            return value
    return None


def _r(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
