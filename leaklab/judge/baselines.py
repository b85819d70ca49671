"""The methods people use today to call a memory leak, as the verdict bench scores them beside the judge.

Each answers, like the judge, at the end of the window it is given: leaking or not (never inconclusive),
from times (seconds) and values (bytes) with the missing readings left out, and the memory limit.

- ``predict_linear``: a Prometheus alert, ``predict_linear(mem[RANGE], HORIZON) > limit`` held ``for`` a
  while, as in this repo's own ``OomPredicted`` alert (``prometheus/rules``). On lab-like series (1 s) it
  is that alert: range 2 min, horizon 5 min, for 30 s. On Prometheus-like series (15 s or 60 s, hours to
  days) it is the usual capacity alert: range 1 h, horizon 4 h, for 15 min. Prometheus fits a least-squares
  line to the samples in the range and extrapolates it from the evaluation time; the alert fires when every
  evaluation (one per reading) in the ``for`` span predicts more than the limit.
- ``slope``: a fixed slope threshold, Coroot's memory-leak check (``auditor/memory.go`` in coroot/coroot;
  default threshold 10 MB per hour, announced in its 0.11.0 release): a least-squares line through the
  whole window, leaking when it climbs more than 10 per hour (Coroot divides bytes by 1024 twice: MiB).
- ``mann_kendall``: the Mann-Kendall trend test (Mann 1945, Kendall 1975), two-sided at alpha 0.05 with
  the tie correction, leaking when the trend is significant and upward. It is O(n²), so series longer than
  ``MK_MAX_POINTS`` are first averaged into that many equal-time bins (as one would downsample a chart).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..units import MIB


@dataclass(frozen=True, slots=True)
class AlertRule:
    range_s: float
    horizon_s: float
    for_s: float


LAB_RULE = AlertRule(range_s=120.0, horizon_s=300.0, for_s=30.0)  # the repo's OomPredicted
PROMETHEUS_RULE = AlertRule(range_s=3600.0, horizon_s=4 * 3600.0, for_s=900.0)
COROOT_MIB_PER_HOUR = 10.0
MK_MAX_POINTS = 400
Z_CRITICAL = 1.959963984540054  # two-sided 5%: the 97.5th percentile of the normal distribution


def rule_for(t: np.ndarray) -> AlertRule:
    """The lab's alert on series read about once a second, the capacity alert on coarser ones."""
    step = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    return LAB_RULE if step < 5.0 else PROMETHEUS_RULE


def predicted(t: np.ndarray, v: np.ndarray, range_s: float, horizon_s: float, ends: np.ndarray) -> np.ndarray:
    """``predict_linear(mem[range], horizon)`` evaluated at each ``t[ends]`` (NaN with fewer than 2 samples)."""
    starts = np.searchsorted(t, t[ends] - range_s, side="left")  # the range holds samples at or after its start
    x = t - t[-1]  # near zero: the sums of squares stay exact on Unix times
    c = [np.concatenate([[0.0], np.cumsum(a)]) for a in (np.ones_like(x), x, v, x * x, x * v)]
    n, sx, sy, sxx, sxy = (s[ends + 1] - s[starts] for s in c)
    denominator = n * sxx - sx * sx
    ok = (n >= 2) & (denominator > 0)
    slope = np.where(ok, (n * sxy - sx * sy) / np.where(ok, denominator, 1.0), np.nan)
    intercept = (sy - slope * sx) / np.maximum(n, 1)  # the line's value at x = 0
    return np.asarray(intercept + slope * (x[ends] + horizon_s))  # extrapolated from the evaluation time


def predict_linear(t: np.ndarray, v: np.ndarray, limit: float) -> bool:
    """Does ``predict_linear(mem[range], horizon) > limit`` hold at every evaluation of the ``for`` span at the end?"""
    if len(t) < 2 or not limit:
        return False
    rule = rule_for(t)
    ends = np.flatnonzero(t >= t[-1] - rule.for_s)  # an evaluation at each reading within the ``for`` span
    with np.errstate(invalid="ignore"):
        return bool((predicted(t, v, rule.range_s, rule.horizon_s, ends) > limit).all())


def slope_threshold(t: np.ndarray, v: np.ndarray, limit: float = 0.0) -> bool:
    """Coroot: the whole window's least-squares slope above 10 MiB per hour."""
    if len(t) < 2:
        return False
    x = t - t.mean()
    sxx = float(np.dot(x, x))
    if sxx == 0:
        return False
    slope = float(np.dot(x, v - v.mean())) / sxx  # bytes per second
    return slope * 3600 / MIB > COROOT_MIB_PER_HOUR


def _binned(t: np.ndarray, v: np.ndarray, bins: int) -> np.ndarray:
    edges = np.linspace(t[0], t[-1], bins + 1)
    index = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, bins - 1)
    sums = np.bincount(index, weights=v, minlength=bins)
    counts = np.bincount(index, minlength=bins)
    return np.asarray(sums[counts > 0] / counts[counts > 0])


def mann_kendall_z(v: np.ndarray) -> float:
    """The Mann-Kendall statistic as a normal score (continuity and tie corrected); 0 for fewer than 3 points."""
    n = len(v)
    if n < 3:
        return 0.0
    diff = np.sign(v[None, :] - v[:, None])
    s = float(np.triu(diff, 1).sum())
    _, ties = np.unique(v, return_counts=True)
    variance = (n * (n - 1) * (2 * n + 5) - float(np.sum(ties * (ties - 1) * (2 * ties + 5)))) / 18
    if variance <= 0 or s == 0:
        return 0.0
    return (s - math.copysign(1, s)) / math.sqrt(variance)


def mann_kendall(t: np.ndarray, v: np.ndarray, limit: float = 0.0) -> bool:
    """A significant upward Mann-Kendall trend (two-sided, alpha 0.05)."""
    values = _binned(t, v, MK_MAX_POINTS) if len(v) > MK_MAX_POINTS else v
    return mann_kendall_z(values) > Z_CRITICAL


ABOUT = (
    "predict_linear: `predict_linear(mem[2m], 300) > limit` held for 30 s on lab-like series (this repo's "
    "OomPredicted alert), `predict_linear(mem[1h], 4 * 3600) > limit` held for 15 min on Prometheus-like ones; "
    "every case has a limit (the one it was killed at, the lab's, or 1.1-2x its peak)",
    "slope 10 MiB/h: Coroot's memory-leak check, a least-squares slope over the whole window above 10 MiB per hour",
    "Mann-Kendall: the trend test, two-sided at alpha 0.05 with the tie correction, an upward trend called leaking "
    f"(series longer than {MK_MAX_POINTS} points averaged into {MK_MAX_POINTS} equal-time bins first)",
)
BASELINES: dict[str, Callable[[np.ndarray, np.ndarray, float], bool]] = {
    "predict_linear": predict_linear,
    "slope 10 MiB/h": slope_threshold,
    "Mann-Kendall": mann_kendall,
}
