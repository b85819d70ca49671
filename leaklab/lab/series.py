"""A label leak: the number of series the API exposes on ``/metrics`` grows with the traffic.

Request data used as a Prometheus label (``metric-labels``) costs a few KB per request, and the lab's
own scrapes slow the API as the page grows, so resident memory can rise too unevenly for the memory
rule. An SRE sees it in Prometheus instead: ``scrape_samples_scraped`` climbs with every request. The
sampler records that count (``metric_series``); a run whose count rises steadily by thousands is
leaking. A bounded label set (the cache modes, every fixed scenario) exposes a fixed set of series:
the process, gc and cache metrics, one HTTP series set per route and status, and at most ten
allocation sites from the debug collector, a few hundred at most.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .fit import pooled_line, segments
from .sampler import Sample

MIN_SERIES_GROWTH = 2000  # new series over the fitted window
MIN_SERIES_R2 = 0.9
MIN_SERIES_POINTS = 4  # scrapes in the fit; fewer say nothing either way
SKIP_FIRST_S = 2.0  # start-up: the first requests create the route's and statuses' series

SERIES_RULE = (
    f"or if the number of series on the API's /metrics page (Prometheus' scrape_samples_scraped) rose by at "
    f"least {MIN_SERIES_GROWTH:,} over the run with a linear fit R² of at least {MIN_SERIES_R2} "
    f"(at least {MIN_SERIES_POINTS} scrapes, from {SKIP_FIRST_S:g} s on): a label leak, a series per request; "
    "a bounded label set exposes a fixed set of series"
)


@dataclass(frozen=True, slots=True)
class SeriesFit:
    growth: int  # series added over the fitted window (slope x span)
    r2: float
    points: int
    start: int  # series at the first fitted scrape
    end: int  # series at the last scrape
    per_request: float | None  # fitted growth per request Locust sent over the window


def fit_series(samples: Sequence[Sample]) -> SeriesFit | None:
    """A line through the series count over the run, one intercept per API process; ``None`` if too few scrapes."""
    points = [
        (s.t_s, float(s.metric_series), s.api_pid)
        for s in samples
        if s.metric_series is not None and s.api_pid and s.t_s >= SKIP_FIRST_S
    ]
    parts = [part for part in segments(points) if len(part) >= 2]
    count = sum(len(part) for part in parts)
    if count < MIN_SERIES_POINTS or (line := pooled_line(parts)) is None:
        return None
    slope, r2, span = line
    growth = slope * span
    sent = _requests_over(samples, parts)
    return SeriesFit(
        growth=round(growth),
        r2=round(r2, 4),
        points=count,
        start=round(parts[0][0][1]),
        end=round(parts[-1][-1][1]),
        per_request=round(growth / sent, 2) if sent else None,
    )


def series_leak(fit: SeriesFit | None) -> bool:
    return fit is not None and fit.growth >= MIN_SERIES_GROWTH and fit.r2 >= MIN_SERIES_R2


def series_reason(fit: SeriesFit) -> str:
    each = f"{fit.per_request:,.0f} per request" if fit.per_request else "a series per request"
    return f"the /metrics series count grew by {fit.growth:,} ({each}, R² {fit.r2:.2f}): a label leak"


def _requests_over(samples: Sequence[Sample], parts: Sequence[Sequence[tuple[float, float]]]) -> int:
    """Requests Locust sent within the fitted parts (its cumulative count, read at each part's ends)."""
    by_time = {s.t_s: s.requests_total for s in samples}
    sent = 0
    for part in parts:
        first, last = by_time.get(part[0][0]), by_time.get(part[-1][0])
        if first is not None and last is not None:
            sent += max(0, last - first)
    return sent
