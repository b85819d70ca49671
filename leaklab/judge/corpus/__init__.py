"""The verdict's labelled corpus: series whose answer is known because of how they were made.

Generated (``generated``: 12 shapes x 20 series, seeded, the same on every machine), half lab-like (a
reading a second for 1-10 minutes, the interval wobbling, readings missing while the API is busy) and half
Prometheus-like (15 s scrapes over 2-24 hours or 60 s over 12 hours to 4 days, Unix times, missed scrapes
and outages), with noise levels (AR(1) noise, spikes) and rates that vary:

- leaking: a plain steady leak; a slow leak under heavy noise; a leak killed at the memory limit 2-5
  times and restarted (with process keys, and without: only the drop shows); a leak that starts late
  (40-75% into the window); a leak under a GC sawtooth (the troughs climb).
- bounded: flat noise; a cache warm-up that then holds (at least the last third); a one-off step at
  20-70% of the window, then flat; a GC sawtooth around a flat mean; memory following a traffic wave
  (at least one full period); fragmentation growth that flattens within the window.

Recorded (``recorded``): ``leaklab compare`` runs of every catalogue scenario, leaky and fixed, and of the
cache modes (leaky, lru, redis), at two durations and loads.

Every case has a memory limit (the one it was killed at, the lab's, or 1.1-2x its peak) for the
``predict_linear`` baseline, and a leaking case says when its leak started.
"""

from __future__ import annotations

from functools import cache

from .case import Case
from .generated import generated
from .recorded import recorded


@cache
def corpus() -> tuple[Case, ...]:
    """Every case, generated first (shape by shape), then the recordings."""
    return (*generated(), *recorded())


__all__ = ["Case", "corpus"]
