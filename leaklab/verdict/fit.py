"""Straight lines through a series, with an honest interval on the slope.

Memory readings a second apart are not independent draws: a GC cycle, a traffic wave or a cache refill
moves many readings together. A plain least-squares interval would then be far too narrow and call noise a
trend, so the slope's standard error is widened by the residuals' lag-1 autocorrelation (the effective
number of readings, ``n (1 - rho) / (1 + rho)``), and its interval uses Student's t on what remains.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

# Student's t, two-sided 95%, by degrees of freedom (1..30); 1.96 beyond
_T95 = (
    12.71, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t95(df: float) -> float:
    if df < 1:
        return _T95[0]
    return _T95[int(df) - 1] if df <= len(_T95) else 1.96


@dataclass(frozen=True, slots=True)
class Line:
    """A slope (per second) over one or more parts, each with its own intercept, and its 95% interval."""

    slope: float
    low: float
    high: float
    r2: float
    points: int
    from_s: float
    to_s: float
    span_s: float  # time covered by the parts (their spans added)
    end_level: float  # the line's value at the last reading of the last part
    sse: float
    plain_half: float  # the interval's half-width were the readings independent (for comparing two lines)
    parts: int = 1
    moved_per_s: float = 0.0  # the most any part's readings spread, over its span: no rate can have been higher

    @property
    def growth(self) -> float:
        """What the line adds over one part, on average: over one process' span."""
        return self.slope * self.span_s / self.parts


def pooled(parts: Sequence[tuple[Array, Array]], floor: float = 0.0) -> Line | None:
    """One slope through every part, each part with its own intercept (a part = one process).

    ``floor`` is the smallest scatter the readings are trusted to: resident memory moves by a few pages
    with the allocator, so a run of identical readings does not make a 0.2 MiB step a trend.
    ``None`` when there is nothing to fit: fewer than three readings, or time standing still.
    """
    parts = [(t, y) for t, y in parts if len(t) >= 2]
    n = sum(len(t) for t, _ in parts)
    if n < 3:
        return None
    sxx = sxy = syy = 0.0
    centred = []
    for t, y in parts:
        dt, dy = t - t.mean(), y - y.mean()
        sxx += float(dt @ dt)
        sxy += float(dt @ dy)
        syy += float(dy @ dy)
        centred.append((dt, dy))
    if sxx <= 0:
        return None
    slope = sxy / sxx
    residuals = np.concatenate([dy - slope * dt for dt, dy in centred])
    sse = float(residuals @ residuals)
    dof = n - 1 - len(parts)
    se = np.sqrt(sse / max(dof, 1) / sxx)
    rho = _lag1(centred, slope)
    inflate = np.sqrt((1 + rho) / (1 - rho))
    n_eff = n * (1 - rho) / (1 + rho)
    # the readings' own scatter, widened for moving together; or the floor's, which is independent
    half = max(t95(n_eff - 1 - len(parts)) * se * inflate, t95(dof) * floor / np.sqrt(sxx))
    se = max(se, floor / np.sqrt(sxx))
    t_last, y_last = parts[-1]
    end_level = float(y_last.mean() + slope * (t_last[-1] - t_last.mean()))
    return Line(
        slope=slope,
        low=slope - half,
        high=slope + half,
        r2=(sxy * sxy) / (sxx * syy) if syy > 0 else 0.0,
        points=n,
        from_s=float(parts[0][0][0]),
        to_s=float(parts[-1][0][-1]),
        span_s=float(sum(t[-1] - t[0] for t, _ in parts)),
        end_level=end_level,
        sse=sse,
        plain_half=t95(n - 1 - len(parts)) * se,
        parts=len(parts),
        moved_per_s=max(float(np.ptp(y)) / float(t[-1] - t[0]) for t, y in parts if t[-1] > t[0]),
    )


def line(t: Array, y: Array, floor: float = 0.0) -> Line | None:
    return pooled([(t, y)], floor)


def _lag1(centred: Sequence[tuple[Array, Array]], slope: float) -> float:
    """Lag-1 autocorrelation of the residuals within each part, clipped to [0, 0.95]."""
    num = den = 0.0
    for dt, dy in centred:
        e = dy - slope * dt
        num += float(e[1:] @ e[:-1])
        den += float(e @ e)
    if den <= 0:
        return 0.0
    return float(min(max(num / den, 0.0), 0.95))


@dataclass(frozen=True, slots=True)
class Break:
    """The best place to break one series into two lines (a step, a knee, a late start)."""

    at: int  # index of the first reading of the second piece
    before: Line
    after: Line
    better: bool  # the two lines explain the readings better than one, by more than their extra terms cost


def best_break(t: Array, y: Array, *, min_after_s: float, min_points: int = 5, floor: float = 0.0) -> Break | None:
    """The break that leaves the least squared error; ``None`` if none fits.

    The second piece must span at least ``min_after_s`` and both at least ``min_points`` readings. Two
    lines are "better" when the Bayesian information criterion (5 terms against 2) says so.
    """
    n = len(t)
    if n < 2 * min_points:
        return None
    whole = line(t, y, floor)
    if whole is None:
        return None
    last_start = int(np.searchsorted(t, t[-1] - min_after_s, side="right")) - 1
    hi = min(n - min_points, last_start)
    if hi < min_points:
        return None
    errors = split_errors(t, y)  # errors[k]: two lines, split before reading k
    k = min_points + int(np.argmin(errors[min_points : hi + 1]))
    sse = float(errors[k])
    before, after = line(t[:k], y[:k], floor), line(t[k:], y[k:], floor)
    if before is None or after is None:
        return None
    # scatter under the floor is no scatter: two lines cannot explain it better than one
    least = max(n * floor * floor, 1e-12 * max(1.0, float(np.abs(y).max())) ** 2)
    bic_one = n * np.log(max(whole.sse, least) / n) + 2 * np.log(n)
    bic_two = n * np.log(max(sse, least) / n) + 5 * np.log(n)
    return Break(k, before, after, bool(bic_two + 2.0 < bic_one))


def split_errors(t: Array, y: Array) -> Array:
    """Squared error of two least-squares lines, one before reading k and one from it, for every k at once."""
    t, y = t - t.mean(), y - y.mean()

    def prefix(t: Array, y: Array) -> Array:
        n = np.arange(1, len(t) + 1, dtype=float)
        st, sy = np.cumsum(t), np.cumsum(y)
        stt, syy, sty = np.cumsum(t * t), np.cumsum(y * y), np.cumsum(t * y)
        vxx, vyy, vxy = stt - st * st / n, syy - sy * sy / n, sty - st * sy / n
        with np.errstate(divide="ignore", invalid="ignore"):
            err = vyy - np.where(vxx > 0, vxy * vxy / vxx, 0.0)
        return np.maximum(err, 0.0)

    head = prefix(t, y)  # head[i]: readings 0..i
    tail = prefix(t[::-1], y[::-1])[::-1]  # tail[i]: readings i..n-1
    out = np.full(len(t) + 1, np.inf)
    out[1:-1] = head[:-1] + tail[1:]
    return out
