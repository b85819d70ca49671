"""The latest trend of a prepared series: the line the verdict weighs, and how it was found.

- One process long enough to judge on its own (the last one): its readings, or its teeth's levels when
  they form a GC sawtooth. When two lines fit the readings better than one (a step, a warm-up that holds,
  a leak that starts late), the later line is the trend, if it ends above what the process held before
  it (a traffic wave's upswing returns to an earlier level; a leak goes past it).
- Otherwise, processes too short to judge alone (a crash loop): one slope through all of them, each
  with its own start level, so that a climb repeated after every restart reads as the climb it is.
- Levelling off: the latest third of the trend rising at under half the rate of the two thirds before
  it, by more than the noise allows. Then the latest third is the trend.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .fit import Array, Line, best_break, line, pooled
from .prepare import Prepared
from .rules import CLOCK_SLACK_S, LEVELLED_RATIO, MIN_POINTS, MIN_SPAN_S
from .sawtooth import tooth_means

MAX_BREAKS = 3
GIVEN_BACK_SHARE = 0.5
NEW_HIGH_SHARE = 0.25  # a leak's latest stretch ends above the earlier high by a quarter of its own rise


@dataclass(frozen=True, slots=True)
class Trend:
    line: Line  # slope per second in the series' unit (MiB for memory)
    how: str  # a phrase for the reasons, e.g. " (after a step at 35 s)"; empty for a plain line
    levelled: bool = False
    new_high: bool = True
    gives_back: bool = False  # the process gave back much of what it had gained: a leak never does
    settled: Line | None = None  # after levelling off: the latest third alone, where memory is now
    stretch: Line | None = None  # when the line is the latest third of a stretch that levelled off: the stretch

    @property
    def moved_per_s(self) -> float:
        """The least a judged stretch's readings spread over its span: no average rate there was higher. When
        the line is the latest third of a stretch that levelled off, the whole stretch counts too."""
        if self.stretch is None:
            return self.line.moved_per_s
        return min(self.line.moved_per_s, self.stretch.moved_per_s)

    @property
    def rate_mib_per_min(self) -> float:
        return self.line.slope * 60

    @property
    def low_mib_per_min(self) -> float:
        return self.line.low * 60

    @property
    def high_mib_per_min(self) -> float:
        return self.line.high * 60


def latest_trend(prep: Prepared, floor: float = 0.0, min_points: int = MIN_POINTS) -> Trend | None:
    """The trend to judge, or ``None`` when too little was seen after warm-up (``judged`` says how much)."""
    points, span = judged(prep)
    if points < min_points or span < MIN_SPAN_S - CLOCK_SLACK_S:  # 10 readings a second apart span 10 s
        return None
    parts = [p for p in prep.parts if len(p.t) >= 2]
    last = parts[-1]
    last_span = float(last.t[-1] - last.t[0])
    if len(parts) == 1 or (last_span >= max(MIN_SPAN_S, 0.4 * span) and len(last.t) >= min_points):
        return _one_process(last.t, last.y, last.process, floor)
    fitted = pooled([(p.t, p.y) for p in parts], floor)
    if fitted is None:
        return None
    processes = len({p.process for p in parts})
    stretches = (
        f"{processes} processes" if processes == len(parts) else f"{len(parts)} stretches of {processes} processes"
    )
    return Trend(fitted, f" (one line through {stretches}, each from its own start)")


def judged(prep: Prepared) -> tuple[int, float]:
    """Readings left to judge (in stretches of two or more) and the time from the first to the last."""
    parts = [p for p in prep.parts if len(p.t) >= 2]
    if not parts:
        return 0, 0.0
    return sum(len(p.t) for p in parts), float(parts[-1].t[-1] - parts[0].t[0])


def rate_only(prep: Prepared, floor: float = 0.0) -> Trend | None:
    """One line through whatever was judged, however short: the rate beside a verdict that needed none."""
    parts = [(p.t, p.y) for p in prep.parts if len(p.t) >= 2]
    fitted = pooled(parts, floor) if parts else None
    return Trend(fitted, "") if fitted is not None else None


def _one_process(t: Array, y: Array, restarts: int, floor: float) -> Trend | None:
    trend = _shape(t, y, restarts, floor)
    if trend is None:
        return None
    return replace(trend, gives_back=gives_back(y))


def _shape(t: Array, y: Array, restarts: int, floor: float) -> Trend | None:
    after = f" (the process since the last restart, from {t[0]:,.0f} s)" if restarts else ""
    teeth = tooth_means(t, y)
    if teeth is not None:
        fitted = line(*teeth, floor)
        if fitted is not None and fitted.points >= 3:
            return Trend(fitted, f"{after} (the levels of {fitted.points} GC sawtooth teeth)")
    whole = line(t, y, floor)
    if whole is None:
        return None
    span = float(t[-1] - t[0])
    start, before, fitted = 0, None, whole
    for _ in range(MAX_BREAKS):  # the latest straight stretch: break again while two lines fit better
        brk = best_break(t[start:], y[start:], min_after_s=max(MIN_SPAN_S, 0.2 * span), floor=floor)
        if brk is None or not brk.better:
            break
        start, before, fitted = start + brk.at, brk.before, brk.after
    if before is None:
        return _levelling(t, y, whole, after, floor)
    trend = _levelling(t[start:], y[start:], fitted, f"{after} (since a change at {t[start]:,.0f} s)", floor)
    rise = fitted.slope * (t[-1] - t[start])
    if trend.line.low > 0 and trend.line.end_level - _high(y[:start]) < NEW_HIGH_SHARE * rise:
        # rising, but no higher than the process was before the change: a wave's upswing, judged whole
        plain = _levelling(t, y, whole, after, floor)
        return Trend(plain.line, plain.how, plain.levelled, new_high=False, stretch=plain.stretch)
    earlier = line(t[:start], y[:start], floor)  # all the process did before its latest stretch
    if trend.levelled or earlier is None or not slowed(earlier, fitted):
        return trend
    # it rose, then its latest stretch slowed down; where it is now (the stretch's latest third) can settle it
    cut = int(np.searchsorted(t, t[start] + (t[-1] - t[start]) * 2 / 3))
    late = line(t[cut:], y[cut:], floor) if len(t) - cut >= 4 else None
    return Trend(trend.line, trend.how, levelled=True, settled=late)


def _levelling(t: Array, y: Array, fitted: Line, how: str, floor: float) -> Trend:
    """The trend over ``t``; its latest third instead when that third has clearly slowed down."""
    cut = int(np.searchsorted(t, t[0] + (t[-1] - t[0]) * 2 / 3))
    if cut < 4 or len(t) - cut < 4:
        return Trend(fitted, how)
    early, late = line(t[:cut], y[:cut], floor), line(t[cut:], y[cut:], floor)
    if early is not None and late is not None and slowed(early, late):
        return Trend(late, f"{how} (levelling off: the latest third)", levelled=True, stretch=fitted)
    return Trend(fitted, how)


def slowed(early: Line, late: Line) -> bool:
    """``early`` rose, and ``late`` rises at under half its rate by more than the noise allows.

    The noise is the readings' own scatter around each line: a curve that bends leaves residuals that move
    together, which is the bend itself, not a reason to doubt it.
    """
    if early.slope - early.plain_half <= 0:
        return False
    gap = LEVELLED_RATIO * early.slope - late.slope
    return bool(gap > np.hypot(LEVELLED_RATIO * early.plain_half, late.plain_half))


def _high(y: Array) -> float:
    """What the process held before: the top of its readings smoothed over a tenth of them (a spike is no level)."""
    width = max(5, len(y) // 10)
    if len(y) >= width:
        smooth = np.convolve(y, np.ones(width) / width, mode="valid")
        return float(smooth.max())
    return float(np.median(y))


def gives_back(y: Array) -> bool:
    """Memory fell from a level it had reached by at least half its whole range (smoothed over a tenth)."""
    width = max(5, len(y) // 10)
    if len(y) < 2 * width:
        return False
    smooth = np.convolve(y, np.ones(width) / width, mode="valid")
    span = float(smooth.max() - smooth.min())
    if span <= 0:
        return False
    drawdown = float((np.maximum.accumulate(smooth) - smooth).max())
    return drawdown >= GIVEN_BACK_SHARE * span
