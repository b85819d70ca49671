"""A straight line through time series with one intercept per segment (an API process between restarts).

Shared by the memory rule and the series rule of the verdict: a restart starts a new line, so the drop
back to the start-up size does not drag the slope down.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TypeVar

Key = TypeVar("Key")


def segments(points: Sequence[tuple[float, float, Key]]) -> list[list[tuple[float, float]]]:
    """``(t, y, key)`` points cut into runs of the same key, in order."""
    out: list[list[tuple[float, float]]] = []
    last: Key | None = None
    for t, y, key in points:
        if key != last or not out:
            out.append([])
            last = key
        out[-1].append((t, y))
    return out


def pooled_line(parts: Sequence[Sequence[tuple[float, float]]]) -> tuple[float, float, float] | None:
    """``(slope per second, R², fitted span in seconds)`` of one slope over every part; ``None`` if time stood still."""
    sxx = sxy = syy = 0.0
    for part in parts:
        mt = statistics.fmean(t for t, _ in part)
        my = statistics.fmean(y for _, y in part)
        sxx += sum((t - mt) ** 2 for t, _ in part)
        sxy += sum((t - mt) * (y - my) for t, y in part)
        syy += sum((y - my) ** 2 for _, y in part)
    if sxx == 0:
        return None
    r2 = (sxy * sxy) / (sxx * syy) if syy > 0 else 0.0
    return sxy / sxx, r2, sum(part[-1][0] - part[0][0] for part in parts)
