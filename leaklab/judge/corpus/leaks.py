"""The leaking shapes of the generated corpus: memory that climbs for as long as the process lives.

Each maker takes a seeded generator and a sampling class and returns a ``Made``: values in bytes on a
``Grid``, the process behind each reading (when the source would know it), when the leak started and the
memory limit. A leak here always grows by a share of the process' size a person would not shrug off (at
least 10%, and for the lab at least 1 MiB/min), and never levels off within the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...units import MIB
from .grid import LAB, Grid, grid, level, limit_above, noise


@dataclass(frozen=True)
class Made:
    grid: Grid
    values: np.ndarray
    process: list[int | None] | None
    leak_start_s: float | None
    limit_bytes: float


def lab_pid(rng: np.random.Generator, g: Grid) -> list[int | None] | None:
    """The lab knows its API's PID; Prometheus-like series carry none."""
    return [int(rng.integers(1000, 60000))] * len(g.t) if g.sampling == LAB else None


def _leak_growth(rng: np.random.Generator, base: float, g: Grid, span_s: float, low: float, high: float) -> float:
    """Bytes a leak adds over ``span_s``: ``low``-``high`` times the base size, and 1 MiB/min or more in the lab."""
    growth = base * rng.uniform(low, high)
    return max(growth, span_s / 60 * MIB * rng.uniform(1.0, 1.5)) if g.sampling == LAB else growth


def steady_leak(rng: np.random.Generator, sampling: str) -> Made:
    g = grid(rng, sampling)
    base = level(rng, sampling)
    growth = _leak_growth(rng, base, g, g.duration, 0.15, 1.2)
    v = (
        base
        + growth * g.x() / g.duration
        + noise(rng, len(g.t), growth * rng.uniform(0.005, 0.05), rng.uniform(0, 0.9))
    )
    return Made(g, v, lab_pid(rng, g), g.start, limit_above(rng, float(v.max()), sampling))


def slow_noisy_leak(rng: np.random.Generator, sampling: str) -> Made:
    """Growth of only 2.5-5 noise deviations over the window: a fuzzy ramp, still plain on a chart."""
    g = grid(rng, sampling, low_s=240.0)
    base = level(rng, sampling)
    growth = _leak_growth(rng, base, g, g.duration, 0.1, 0.3)
    sigma = growth / rng.uniform(2.5, 5.0)
    v = base + growth * g.x() / g.duration + noise(rng, len(g.t), sigma, rng.uniform(0, 0.6), spikes=0.01)
    return Made(g, v, lab_pid(rng, g), g.start, limit_above(rng, float(v.max()), sampling))


def late_leak(rng: np.random.Generator, sampling: str) -> Made:
    """Flat for 40-75% of the window, then a steady climb over the rest (at least a minute in the lab)."""
    g = grid(rng, sampling, low_s=240.0)
    base = level(rng, sampling)
    start = g.duration * rng.uniform(0.4, 0.75)
    span = g.duration - start
    growth = _leak_growth(rng, base, g, span, 0.12, 0.6)
    sigma = growth * rng.uniform(0.01, 0.12)
    ramp = np.clip(g.x() - start, 0, None) * growth / span
    v = base + ramp + noise(rng, len(g.t), sigma, rng.uniform(0, 0.8))
    return Made(g, v, lab_pid(rng, g), g.start + start, limit_above(rng, float(v.max()), sampling))


def sawtooth(rng: np.random.Generator, x: np.ndarray, period: float, amplitude: float) -> np.ndarray:
    """A garbage-collected heap: climbs by ``amplitude`` over each period (+-20%), then drops back."""
    edges = np.cumsum(period * rng.uniform(0.8, 1.2, int(x[-1] / period) + 3)) - period * rng.uniform(0, 1)
    index = np.searchsorted(edges, x)
    left = np.concatenate([[edges[0] - period], edges])[index]
    right = edges[index]
    heights = amplitude * rng.uniform(0.85, 1.15, len(edges) + 1)[index]
    return np.asarray(heights * (x - left) / (right - left))


def sawtooth_leak(rng: np.random.Generator, sampling: str) -> Made:
    """A leak under GC teeth (up to 20% of the size, six or more in the window): the troughs climb."""
    g = grid(rng, sampling, low_s=180.0)
    base = level(rng, sampling)
    amplitude = base * rng.uniform(0.05, 0.2)
    period = g.duration / rng.uniform(6, 30)
    period = max(period, 8 * g.step_s)
    growth = max(amplitude * rng.uniform(0.8, 2.0), _leak_growth(rng, base, g, g.duration, 0.1, 0.3))
    teeth = sawtooth(rng, g.x(), period, amplitude)
    v = base + growth * g.x() / g.duration + teeth + noise(rng, len(g.t), amplitude * 0.03, 0.3)
    return Made(g, v, lab_pid(rng, g), g.start, limit_above(rng, float(v.max()), sampling))


def oom_restarts(rng: np.random.Generator, sampling: str, keyed: bool) -> Made:
    """A leak that reaches the limit 2-5 times in the window: killed, restarted at the start size, again.

    ``keyed``: each reading names its process (a PID, a container start time); otherwise only the drop
    shows the restart. The process is down for a few seconds (lab) or a scrape or two.
    """
    g = grid(rng, sampling)
    base = level(rng, sampling)
    headroom = base * rng.uniform(0.3, 1.2)
    limit = base + headroom
    climb = g.duration / rng.uniform(2.2, 5.0)  # seconds from start-up to the kill, +-20% with the traffic
    down = rng.uniform(2, 6) if sampling == LAB else g.step_s * rng.integers(1, 3)
    lives = climb * rng.uniform(0.8, 1.2, int(g.duration / climb / 0.8) + 2)
    starts = np.concatenate([[0.0], np.cumsum(lives + down)])
    x = g.x()
    life = np.searchsorted(starts, x, side="right") - 1
    since = x - starts[life]
    alive = since <= lives[life]
    v = base + headroom * np.minimum(since / lives[life], 1.0) + noise(rng, len(x), headroom * 0.01, 0.5)
    values = np.where(alive, np.minimum(v, limit), np.nan)
    first_pid = int(rng.integers(1000, 60000))
    process = [first_pid + int(k) if up else None for k, up in zip(life, alive, strict=True)] if keyed else None
    return Made(g, values, process, g.start, float(limit))


def oom_restarts_keyed(rng: np.random.Generator, sampling: str) -> Made:
    return oom_restarts(rng, sampling, keyed=True)


def oom_restarts_unkeyed(rng: np.random.Generator, sampling: str) -> Made:
    return oom_restarts(rng, sampling, keyed=False)
