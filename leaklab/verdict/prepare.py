"""From raw readings to what the judge fits: clean, cut at restarts, warm-up and excluded windows left out.

A restart is a change of process when the source knows the process; otherwise a drop back towards the
level the process started at (a counter reset to zero is one too). Each process warms up after it starts:
start-up, the first requests, bounded caches filling. Warm-up is told by state, not by a share of the run:
it lasts until the load has run a few seconds and, where the fill of the bounded structures is known,
until they are full, in every process anew.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .fit import Array
from .model import Context, Series
from .rules import AFTER_EXCLUDED_S, CLOCK_SLACK_S, FULL, RESTART_DROP_SHARE, RESTART_RISE_SHARE, SETTLE_S

MIB = 1024.0 * 1024.0


@dataclass(slots=True)
class Part:
    """One process' readings (seconds, MiB or units), and what was left out of them as warm-up."""

    t: Array
    y: Array
    filled: bool | None = None  # the bounded structures filled up (None: not known)
    process: int = 0  # which process (0 = the first); a process has several parts around excluded windows


@dataclass(slots=True)
class Prepared:
    parts: list[Part]  # judged readings, one part per process, in time order
    observed_from_s: float | None = None
    observed_to_s: float | None = None
    readings: int = 0
    restarts: int = 0
    still_filling: bool = False  # the last process' bounded structures never filled
    notes: list[str] = field(default_factory=list)

    @property
    def observed_span_s(self) -> float:
        if self.observed_from_s is None or self.observed_to_s is None:
            return 0.0
        return self.observed_to_s - self.observed_from_s


def clean(series: Series, scale: float = MIB) -> tuple[Array, Array, list[Hashable | None] | None]:
    """Finite readings sorted by time (the last of equal times kept), values divided by ``scale``."""
    keys = list(series.process) if series.process is not None else None
    rows = []
    for i, (t, v) in enumerate(zip(series.t_s, series.values, strict=True)):
        if v is None or t is None:
            continue
        tf, vf = float(t), float(v)
        if math.isfinite(tf) and math.isfinite(vf):
            rows.append((tf, i, vf))
    rows.sort()
    dedup: dict[float, tuple[int, float]] = {}
    for t, i, v in rows:
        dedup[t] = (i, v)
    times = np.array(list(dedup), dtype=float)
    values = np.array([v for _, v in dedup.values()], dtype=float) / scale
    procs = [keys[i] for i, _ in dedup.values()] if keys is not None else None
    return times, values, procs


def split(t: Array, y: Array, procs: Sequence[Hashable | None] | None) -> list[tuple[Array, Array]]:
    """Cut at each restart: a change of process, or (process unknown) a drop back towards the start level."""
    if len(t) == 0:
        return []
    cuts = []
    if procs is not None and any(p is not None for p in procs):
        cuts = [i for i in range(1, len(t)) if procs[i] != procs[i - 1]]
    else:
        values = y.tolist()
        first: list[float] = []  # the current process' first readings: its start level
        start = 0
        for i in range(1, len(values)):
            if len(first) < 3:
                first.append(values[i - 1])
            base = sorted(first)[len(first) // 2]
            recent = sorted(values[max(i - 5, start) : i])  # the level just before (a lone spike is not a level)
            prev, now = recent[len(recent) // 2], values[i]
            drop, rise = prev - now, prev - base
            reset = prev > 0 and now <= 0.1 * prev
            fell = reset or (drop >= RESTART_DROP_SHARE * abs(prev) and rise > 0 and drop >= RESTART_RISE_SHARE * rise)
            if fell and _stays_down(values, i, prev - drop / 2):
                cuts.append(i)
                first, start = [], i
    bounds = [0, *cuts, len(t)]
    return [(t[a:b], y[a:b]) for a, b in itertools.pairwise(bounds) if b > a]


def _stays_down(values: Sequence[float], i: int, ceiling: float) -> bool:
    """The readings after a fall stay below ``ceiling``: a new process, not one low outlier."""
    after = sorted(values[i : i + 5])
    return len(after) < 3 or after[len(after) // 2] < ceiling


def prepare(series: Series, ctx: Context, scale: float = MIB, *, settle_s: float = SETTLE_S) -> Prepared:
    """The judged parts of ``series``: restarts cut, excluded windows and each process' warm-up left out."""
    t, y, procs = clean(series, scale)
    out = Prepared(parts=[], readings=len(t))
    if len(t) == 0:
        return out
    out.observed_from_s, out.observed_to_s = float(t[0]), float(t[-1])
    pieces = split(t, y, procs)
    out.restarts = len(pieces) - 1
    known_start = procs is not None and any(p is not None for p in procs)
    fill = sorted(ctx.fill)
    for index, (pt, py) in enumerate(pieces):
        keep = np.ones(len(pt), dtype=bool)
        for a, b in ctx.excluded_s:
            keep &= ~((pt >= a) & (pt <= b + AFTER_EXCLUDED_S))
        warm = -math.inf
        if index > 0 or known_start:  # the process started here: its start-up settles first
            warm = float(pt[0]) + settle_s
        if ctx.load_s is not None:
            warm = max(warm, ctx.load_s[0] + settle_s)
            if ctx.load_s[1] is not None:
                keep &= pt <= ctx.load_s[1]
        filled: bool | None = None
        inside = [(ft, f) for ft, f in fill if pt[0] <= ft <= pt[-1]]
        if inside:
            full_at = next((ft for ft, f in inside if f >= FULL), None)
            filled = full_at is not None
            if full_at is not None:
                warm = max(warm, full_at)
        keep &= pt >= warm - CLOCK_SLACK_S  # a reading 2.999 s after the load's first is 3 s after it
        # an excluded window leaves memory of its own behind (a tracemalloc snapshot): a new line after it
        phase = np.zeros(len(pt), dtype=int)
        for _, b in ctx.excluded_s:
            phase += pt > b + AFTER_EXCLUDED_S
        for k in np.unique(phase[keep]):
            mask = keep & (phase == k)
            out.parts.append(Part(pt[mask], py[mask], filled=filled, process=index))
    out.parts = [p for p in out.parts if len(p.t)]
    last_filled = [p.filled for p in out.parts if p.filled is not None]
    out.still_filling = bool(last_filled) and not last_filled[-1]
    return out
