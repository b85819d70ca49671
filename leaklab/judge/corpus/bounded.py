"""The bounded shapes of the generated corpus: memory that moves, and may rise, but holds.

Each is made so that a careful engineer looking at the whole chart says "bounded": the warm-up has
filled and held for at least the last third; the step comes between 20% and 70% of the window and is
followed by flat memory; the GC teeth and the traffic wave swing around a flat mean (several teeth, at
least one full period of the wave); fragmentation visibly flattens (under 5% of its growth comes in the
last third of the window).
"""

from __future__ import annotations

import numpy as np

from ...units import MIB
from .grid import LAB, Grid, grid, level, limit_above, noise
from .leaks import Made, lab_pid, sawtooth


def _noise_sigma(rng: np.random.Generator, base: float, sampling: str) -> float:
    return rng.uniform(0.1, 2.0) * MIB if sampling == LAB else base * rng.uniform(0.003, 0.03)


def _made(rng: np.random.Generator, g: Grid, v: np.ndarray, sampling: str) -> Made:
    return Made(g, v, lab_pid(rng, g), None, limit_above(rng, float(np.nanmax(v)), sampling))


def flat_noise(rng: np.random.Generator, sampling: str) -> Made:
    g = grid(rng, sampling)
    base = level(rng, sampling)
    sigma = _noise_sigma(rng, base, sampling)
    v = base + noise(rng, len(g.t), sigma, rng.uniform(0, 0.9), spikes=rng.choice([0.0, 0.01]))
    return _made(rng, g, v, sampling)


def warmup_hold(rng: np.random.Generator, sampling: str) -> Made:
    """A cache filling to its bound (a ramp with a knee, or an exponential approach), then holding."""
    g = grid(rng, sampling)
    base = level(rng, sampling)
    fill = base * rng.uniform(0.1, 1.0)
    x = g.x() / g.duration
    if rng.random() < 0.5:
        end = rng.uniform(0.1, 0.6)  # full by then: the hold is the last 40-90% of the window
        curve = np.minimum(x / end, 1.0)
    else:
        tau = rng.uniform(1 / 30, 2 / 15)  # 99% full by 5 tau <= 2/3 of the window
        curve = 1 - np.exp(-x / tau)
    v = base + fill * curve + noise(rng, len(g.t), fill * rng.uniform(0.005, 0.05), rng.uniform(0, 0.8))
    return _made(rng, g, v, sampling)


def step_then_flat(rng: np.random.Generator, sampling: str) -> Made:
    """A burst of load leaves memory one step higher (between 20% and 70% of the window), then flat."""
    g = grid(rng, sampling)
    base = level(rng, sampling)
    sigma = _noise_sigma(rng, base, sampling)
    step = max(base * rng.uniform(0.05, 0.5), 6 * sigma)
    at = g.duration * rng.uniform(0.2, 0.7)
    width = rng.uniform(1, 10) * g.step_s  # the burst takes a few readings
    curve = np.clip((g.x() - at) / width, 0, 1)
    v = base + step * curve + noise(rng, len(g.t), sigma, rng.uniform(0, 0.8))
    return _made(rng, g, v, sampling)


def gc_sawtooth(rng: np.random.Generator, sampling: str) -> Made:
    """GC teeth (3-20% of the size, 5 to 30 in the window, each 8 readings or more) around a flat mean."""
    g = grid(rng, sampling, low_s=120.0)
    base = level(rng, sampling)
    amplitude = base * rng.uniform(0.03, 0.2)
    period = min(max(g.duration / rng.uniform(5, 30), 8 * g.step_s), g.duration / 5)
    teeth = sawtooth(rng, g.x(), period, amplitude)
    v = base + teeth + noise(rng, len(g.t), amplitude * rng.uniform(0.01, 0.08), 0.3)
    return _made(rng, g, v, sampling)


def traffic_wave(rng: np.random.Generator, sampling: str) -> Made:
    """Memory following traffic up and down (5-30% of the size), one to four full periods in the window.

    Prometheus-like: a daily cycle over 1-4 days at 60 s, or a 2-6 hour one at 15 s; the lab: a load
    shape of 1-5 minutes. The wave is skewed (traffic climbs faster than it falls, or the other way).
    """
    g = grid(rng, sampling, low_s=120.0)
    base = level(rng, sampling)
    period = g.duration / rng.uniform(1.0, 4.0)
    if g.step_s == 60.0 and g.duration >= 86400:
        period = 86400.0  # daily traffic
    phase = rng.uniform(0, 2 * np.pi)
    angle = 2 * np.pi * g.x() / period + phase
    wave = np.sin(angle) + rng.uniform(-0.3, 0.3) * np.sin(2 * angle)
    amplitude = base * rng.uniform(0.05, 0.3)
    v = base + amplitude * wave + noise(rng, len(g.t), amplitude * rng.uniform(0.02, 0.1), rng.uniform(0, 0.8))
    return _made(rng, g, v, sampling)


def fragmentation(rng: np.random.Generator, sampling: str) -> Made:
    """Allocator fragmentation: fast growth at first that slows and flattens (a stretched exponential)."""
    g = grid(rng, sampling)
    base = level(rng, sampling)
    growth = base * rng.uniform(0.1, 0.5)
    beta = rng.uniform(0.5, 0.8)
    x = g.x() / g.duration

    def curve(at: np.ndarray | float, tau: float) -> np.ndarray:
        return np.asarray(1 - np.exp(-((np.asarray(at) / tau) ** beta)))

    tau = rng.uniform(1 / 12, 1 / 6)
    while float(curve(1.0, tau) - curve(2 / 3, tau)) > 0.05 * float(curve(1.0, tau)):
        tau *= 0.9  # flatten sooner until the last third adds under 5% of the growth
    v = base + growth * curve(x, tau) + noise(rng, len(g.t), growth * rng.uniform(0.01, 0.04), rng.uniform(0, 0.6))
    return _made(rng, g, v, sampling)
