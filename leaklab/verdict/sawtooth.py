"""A GC sawtooth: memory climbs, then a collection drops it at once, again and again.

Fitting a line through the raw readings of a few teeth gives a slope that depends on where the window cuts
the teeth. What a leak changes is the level of the teeth: each tooth's mean reading rises from tooth to
tooth, while a healthy sawtooth repeats the same tooth. So a series with several sharp drops is judged on
its teeth's means, one point per tooth.
"""

from __future__ import annotations

import numpy as np

from .fit import Array
from .rules import SAWTOOTH_DROP_SCALES, SAWTOOTH_MIN_TEETH


def tooth_means(t: Array, y: Array) -> tuple[Array, Array] | None:
    """``(time, level)`` of each whole tooth, or ``None`` if the readings are not a sawtooth."""
    if len(t) < 4 * SAWTOOTH_MIN_TEETH:
        return None
    steps = np.diff(y)
    # the usual step between readings: their spread, or (readings without noise) half their typical size
    scale = max(1.4826 * float(np.median(np.abs(steps - np.median(steps)))), 0.5 * float(np.median(np.abs(steps))))
    if scale <= 0:
        scale = float(np.mean(np.abs(steps))) or 1.0
    big = SAWTOOTH_DROP_SCALES * scale
    falls = np.flatnonzero(steps < -big)
    # a collection drops memory after a climb and memory climbs on from there: a fall right after a jump up,
    # or right before one, is a lone spike or dip, not a tooth
    lone = ((falls > 0) & (steps[np.maximum(falls - 1, 0)] > big)) | (
        (falls + 1 < len(steps)) & (steps[np.minimum(falls + 1, len(steps) - 1)] > big)
    )
    drops = falls[~lone] + 1
    if len(drops) < SAWTOOTH_MIN_TEETH:
        return None
    # whole teeth only: from one drop to the next (the readings before the first drop are a partial tooth)
    pairs = [(a, b) for a, b in zip(drops, [*drops[1:], len(t)], strict=True) if b - a >= 2]
    if pairs and pairs[-1][1] == len(t):
        pairs = pairs[:-1]  # the last tooth is still growing
    if len(pairs) < SAWTOOTH_MIN_TEETH - 1:
        return None
    times = np.array([t[a:b].mean() for a, b in pairs])
    levels = np.array([y[a:b].mean() for a, b in pairs])
    return times, levels
