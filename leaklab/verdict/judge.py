"""Leaking, bounded or inconclusive: is the process' memory still rising at the end of the window?

The judge finds the latest trend (``trend.py``) and weighs its rate and 95% interval against the
tolerance (``rules.py``): still rising, steadily, above what the process held before, is a leak; a
rate that is surely small is bounded; what the readings cannot tell apart is inconclusive, and says why.
A kill at the memory limit is a leak by itself, and so is a /metrics page whose series climb with traffic.
"""

from __future__ import annotations

from .model import BOUNDED, INCONCLUSIVE, LEAKING, Context, Series, Verdict
from .prepare import prepare
from .rules import (
    GROWTH_SHARE,
    MIN_POINTS,
    MIN_SPAN_S,
    READING_NOISE_MIB,
    RESOLUTION_MIB_PER_MIN,
    SERIES_MIN_PER_MIN,
    SERIES_MIN_PER_REQUEST,
    SERIES_MIN_POINTS,
    TOLERANCE_MIB_PER_MIN,
)
from .trend import Trend, judged, latest_trend, rate_only


def judge(series: Series, context: Context | None = None) -> Verdict:
    """The verdict on one memory series (bytes), with what else is known of the run in ``context``."""
    ctx = context or Context()
    tolerance = ctx.tolerance_mib_per_min if ctx.tolerance_mib_per_min is not None else TOLERANCE_MIB_PER_MIN
    prep = prepare(series, ctx)
    trend = latest_trend(prep, READING_NOISE_MIB)
    rules: list[str] = []
    reasons: list[str] = []
    if ctx.oom_kills > 0:
        rules.append("oom")
        reasons.append(f"killed at its memory limit {ctx.oom_kills} time{'s' if ctx.oom_kills != 1 else ''}")
    # a tolerance given by the user is the only floor; the default also calls a slow leak seen over days
    call = _call(trend, tolerance, RESOLUTION_MIB_PER_MIN, relative=ctx.tolerance_mib_per_min is None)
    if call == LEAKING:
        rules.append("memory")
    if trend is not None:
        reasons.append(_describe(trend, call, tolerance))
    elif not rules:
        reasons.append(_too_short(prep.readings, *judged(prep)))
    labels = _series_leak(ctx)
    if labels is not None:
        rules.append("series")
        reasons.append(labels)
    verdict = LEAKING if rules or call == LEAKING else call or INCONCLUSIVE
    if verdict == LEAKING and prep.still_filling and rules == ["memory"]:
        verdict = INCONCLUSIVE
        reasons.append("the bounded caches were still filling: run longer to see whether memory levels off")
    if trend is None and rules:  # a verdict that needed no trend still gets the rate there was
        trend = rate_only(prep, READING_NOISE_MIB)
    rate = trend.rate_mib_per_min if trend else None
    last = trend.line.end_level if trend else None
    limit_mib = ctx.limit_bytes / 2**20 if ctx.limit_bytes else None
    to_limit = None
    if verdict == LEAKING and rate and rate > 0 and limit_mib and last is not None:
        to_limit = round(max(0.0, limit_mib - last) / rate * 60, 1)
    span = prep.observed_span_s
    return Verdict(
        verdict=verdict,
        rate_mib_per_min=_r(rate),
        rate_low_mib_per_min=_r(trend.low_mib_per_min) if trend else None,
        rate_high_mib_per_min=_r(trend.high_mib_per_min) if trend else None,
        r2=round(float(trend.line.r2), 3) if trend else None,
        from_s=round(trend.line.from_s, 1) if trend else None,
        to_s=round(trend.line.to_s, 1) if trend else None,
        coverage=round((trend.line.to_s - trend.line.from_s) / span, 3) if trend and span > 0 else None,
        points=trend.line.points if trend else 0,
        restarts=prep.restarts,
        oom_kills=ctx.oom_kills,
        levelled=bool(trend and trend.levelled),
        seconds_to_limit=to_limit,
        rules=tuple(rules),
        reasons=tuple(reasons),
    )


def _call(trend: Trend | None, tolerance: float, resolution: float, *, relative: bool = True) -> str | None:
    if trend is None:
        return None
    rate, low, high = trend.rate_mib_per_min, trend.low_mib_per_min, trend.high_mib_per_min
    growth = trend.line.growth
    worth = rate >= tolerance or (relative and growth >= GROWTH_SHARE * abs(trend.line.end_level))
    seen = growth >= 3 * READING_NOISE_MIB  # more than a reading or two can move by itself
    if worth and seen and low > 0 and not trend.levelled and trend.new_high:
        return LEAKING
    if high < max(tolerance, resolution) or abs(trend.line.growth) <= 2 * READING_NOISE_MIB:
        return BOUNDED  # surely slow, or flat to within what a reading can tell over the whole window
    if trend.moved_per_s * 60 < max(tolerance, resolution):
        return BOUNDED  # the readings never spread more than that rate allows, whatever their interval says
    now = trend.settled  # levelled off: where memory is now may be flat, however the climb before it bent
    if now is not None and (now.high * 60 < max(tolerance, resolution) or abs(now.growth) <= 2 * READING_NOISE_MIB):
        return BOUNDED
    if trend.gives_back and not (rate >= tolerance and low > 0):
        return BOUNDED
    return INCONCLUSIVE


def _describe(trend: Trend, call: str | None, tolerance: float) -> str:
    low, high = trend.low_mib_per_min, trend.high_mib_per_min
    rate = f"{trend.rate_mib_per_min:+,.2f} MiB/min (95%: {low:+,.2f} to {high:+,.2f})"
    window = f"over {trend.line.from_s:,.0f}-{trend.line.to_s:,.0f} s"
    how = trend.how
    if call == LEAKING:
        return f"memory still rising {rate} {window}{how}"
    if call == BOUNDED:
        if trend.levelled:
            now = trend.settled
            latest = (
                f"; {now.slope * 60:+,.2f} MiB/min over the latest {now.from_s:,.0f}-{now.to_s:,.0f} s" if now else ""
            )
            return f"memory rose, then levelled off: {rate} {window}{how}{latest}"
        if trend.gives_back and trend.high_mib_per_min >= tolerance:
            return f"memory rises and falls back (it gave back over half its range): {rate} {window}{how}"
        return f"memory flat within the noise: {rate} {window}{how}"
    if trend.levelled:
        return f"memory is levelling off but still moving {rate} {window}{how}: run longer to tell"
    if not trend.new_high:
        return f"memory moved {rate} {window}{how} but no higher than it was before: run longer to tell"
    return f"too noisy or too short to tell: {rate} {window}{how} (tolerance {tolerance:g} MiB/min)"


def _too_short(readings: int, judged: int, span_s: float) -> str:
    left = f"{judged} reading{'s' if judged != 1 else ''} over {span_s:,.0f} s"
    return (
        f"too short to tell: {left} after warm-up and the windows left out ({readings} in all); at least "
        f"{MIN_POINTS} over {MIN_SPAN_S:g} s are needed"
    )


def _series_leak(ctx: Context) -> str | None:
    """A sentence when the /metrics series count climbs with the traffic (a label leak), else ``None``."""
    if ctx.metric_series is None:
        return None
    prep = prepare(ctx.metric_series, ctx, scale=1.0)
    # a count is whole; a page that has grown large is read less often (the sampler's budget), so fewer reads do
    trend = latest_trend(prep, floor=1.0, min_points=SERIES_MIN_POINTS)
    if trend is None or trend.levelled or not trend.new_high or trend.line.low <= 0:
        return None
    per_min = trend.line.slope * 60
    per_request = _per_request(ctx, trend)
    if per_request is not None:
        if per_request < SERIES_MIN_PER_REQUEST:
            return None
        each = f"{per_request:,.1f} per request"
    elif per_min < SERIES_MIN_PER_MIN:
        return None
    else:
        each = f"{per_min:,.0f} a minute"
    return f"the /metrics series count climbs with the traffic ({each}): a label leak"


def _per_request(ctx: Context, trend: Trend) -> float | None:
    rows = [(t, n) for t, n in sorted(ctx.requests) if trend.line.from_s <= t <= trend.line.to_s]
    if len(rows) < 2 or rows[-1][0] <= rows[0][0]:
        return None
    sent_per_s = (rows[-1][1] - rows[0][1]) / (rows[-1][0] - rows[0][0])
    return trend.line.slope / sent_per_s if sent_per_s > 0 else None


def _r(value: float | None) -> float | None:
    return round(float(value), 3) if value is not None else None
