"""What a source hands the judge: named series with their context, tidied as real exports need.

Real series come unsorted, with repeated timestamps (two exporters, a retried scrape), empty or ``NaN``
cells and gaps. ``tidy`` sorts them, averages the readings that share a timestamp and turns every
missing or non-finite reading into ``None``: the judge sees one reading per moment, in order.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

from ..verdict import Context, Series


class BadInput(Exception):
    """Input the judge cannot read: one line for the user, exit code 2."""


@dataclass(frozen=True, slots=True)
class Input:
    """One series to judge, under the name the output gives it."""

    name: str
    series: Series
    context: Context
    oom_s: tuple[float, ...] = ()  # when the OOM kills counted in ``context.oom_kills`` happened, if known


def reading(value: float | None) -> float | None:
    """A reading, or ``None`` when it is missing or not finite (``NaN``, ``inf``)."""
    return value if value is not None and math.isfinite(value) else None


def tidy(
    times: Sequence[float],
    values: Sequence[float | None],
    process: Sequence[Hashable | None] | None = None,
    name: str = "",
) -> Series:
    """A ``Series`` sorted by time, one reading per timestamp (the mean of the finite ones there)."""
    order = sorted(range(len(times)), key=lambda i: times[i])
    t_out: list[float] = []
    v_out: list[float | None] = []
    p_out: list[Hashable | None] = []
    total, count = 0.0, 0
    for i in order:
        value = reading(values[i])
        if t_out and times[i] == t_out[-1]:
            if value is not None:
                total, count = total + value, count + 1
                v_out[-1] = total / count
            if process is not None and process[i] is not None:
                p_out[-1] = process[i]
            continue
        t_out.append(float(times[i]))
        v_out.append(value)
        p_out.append(process[i] if process is not None else None)
        total, count = (value, 1) if value is not None else (0.0, 0)
    return Series(t_out, v_out, p_out if process is not None else None, name)
