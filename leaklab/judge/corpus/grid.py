"""When a generated series is read, and the noise on it: the two sampling classes of the corpus.

``lab``: one reading a second for 1 to 10 minutes, as leaklab's sampler takes them: the interval wobbles,
a slow scrape skips the next second, and now and then the API is busy for several seconds (readings
missing). Times start at 0. ``prometheus``: a scrape every 15 s (2 to 24 hours) or 60 s (12 hours to 4
days), on Unix times, with a scrape missed here and there and sometimes an outage of minutes.
Noise is AR(1) (memory wanders; it is not independent from one reading to the next) plus rare spikes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...units import MIB

LAB, PROMETHEUS = "lab", "prometheus"
EPOCH = 1_750_000_000.0  # June 2025: Prometheus-like series carry Unix times, as query_range returns them


@dataclass(frozen=True)
class Grid:
    """Reading times (seconds), which readings are missing, and the sampling class."""

    t: np.ndarray
    missing: np.ndarray  # bool per reading: no value (a failed scrape, a busy API)
    sampling: str
    step_s: float

    @property
    def start(self) -> float:
        return float(self.t[0])

    @property
    def duration(self) -> float:
        return float(self.t[-1] - self.t[0])

    def x(self) -> np.ndarray:
        """Seconds since the first reading."""
        return np.asarray(self.t - self.t[0])


def lab_grid(rng: np.random.Generator, low_s: float = 60.0, high_s: float = 600.0) -> Grid:
    duration = rng.uniform(low_s, high_s)
    steps = 1.0 + rng.uniform(-0.03, 0.08, int(duration) + 1)
    steps[rng.random(len(steps)) < 0.04] += 1.0  # a slow scrape: the next second is skipped
    t = np.concatenate([[0.0], np.cumsum(steps)])
    t = t[t <= duration]
    n = len(t)
    missing = rng.random(n) < 0.01
    if rng.random() < 0.3:  # the API busy for a while: no readings (rows kept, values empty)
        start = rng.integers(n // 5, n - n // 5)
        missing[start : start + rng.integers(3, 12)] = True
    return Grid(np.round(t, 3), missing, LAB, 1.0)


def prometheus_grid(rng: np.random.Generator, step_s: float | None = None) -> Grid:
    step = step_s or float(rng.choice([15.0, 60.0]))
    low, high = (2 * 3600, 24 * 3600) if step == 15.0 else (12 * 3600, 4 * 86400)
    n = int(rng.uniform(low, high) / step) + 1
    t = EPOCH + rng.uniform(0, 86400 * 30) + np.arange(n) * step + rng.uniform(-0.3, 0.3, n)
    keep = rng.random(n) >= 0.01  # a missed scrape leaves no point at all in query_range
    if rng.random() < 0.3:
        start = rng.integers(n // 5, n - n // 5)
        keep[start : start + int(min(rng.uniform(300, 3600), n * step / 10) / step)] = False  # an outage of minutes
    keep[[0, -1]] = True
    return Grid(np.round(t[keep], 3), np.zeros(int(keep.sum()), dtype=bool), PROMETHEUS, step)


def grid(rng: np.random.Generator, sampling: str, low_s: float = 60.0) -> Grid:
    return lab_grid(rng, low_s) if sampling == LAB else prometheus_grid(rng)


def noise(rng: np.random.Generator, n: int, sigma: float, phi: float, spikes: float = 0.0) -> np.ndarray:
    """AR(1) noise of standard deviation ``sigma`` and lag-one correlation ``phi``, plus upward spikes."""
    shocks = rng.normal(0.0, sigma * np.sqrt(1 - phi * phi), n)
    out = np.empty(n)
    out[0] = rng.normal(0.0, sigma)
    for i in range(1, n):
        out[i] = phi * out[i - 1] + shocks[i]
    if spikes:
        hits = rng.random(n) < spikes  # a transient allocation, freed by the next reading
        out[hits] += rng.uniform(3, 8, int(hits.sum())) * sigma
    return out


def level(rng: np.random.Generator, sampling: str) -> float:
    """The process' size before anything happens: 50-150 MiB for the lab's API, 100 MiB-2 GiB in production."""
    if sampling == LAB:
        return rng.uniform(50, 150) * MIB
    return float(np.exp(rng.uniform(np.log(100), np.log(2048)))) * MIB


def limit_above(rng: np.random.Generator, peak: float, sampling: str) -> float:
    """A memory limit over ``peak`` (x1.1 to x2, as tight as services are sized), rounded up to 16 or 64 MiB."""
    unit = (16 if sampling == LAB else 64) * MIB
    return float(np.ceil(peak * rng.uniform(1.1, 2.0) / unit) * unit)
