"""The generated part of the corpus: 20 series of each shape, half lab-like and half Prometheus-like.

Every series comes from a fixed seed (``SEED``, the shape's place and the series' number), so the corpus
is the same on every machine and every run. Other seeds give held-out corpora of the same shapes: the
judge is tuned on ``SEED``, and the bench also scores it on ``HELD_OUT`` seeds it was never tuned on.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np

from ...verdict import BOUNDED, LEAKING, Context, Series
from .bounded import flat_noise, fragmentation, gc_sawtooth, step_then_flat, traffic_wave, warmup_hold
from .case import GENERATED, Case
from .grid import LAB, PROMETHEUS
from .leaks import (
    Made,
    late_leak,
    oom_restarts_keyed,
    oom_restarts_unkeyed,
    sawtooth_leak,
    slow_noisy_leak,
    steady_leak,
)

SEED = 19
HELD_OUT = (20, 21, 22)
PER_SHAPE = 20
Maker = Callable[[np.random.Generator, str], Made]

# shape -> (label, maker, what it is); the order is the order of the tables
SHAPES: dict[str, tuple[str, Maker, str]] = {
    "steady-leak": (LEAKING, steady_leak, "a plain steady leak"),
    "slow-noisy-leak": (LEAKING, slow_noisy_leak, "a slow leak under heavy noise (2.5-5 noise deviations)"),
    "oom-restarts": (LEAKING, oom_restarts_keyed, "a leak killed at the limit 2-5 times, process known"),
    "oom-restarts-unkeyed": (LEAKING, oom_restarts_unkeyed, "the same without process keys: only drops show"),
    "late-leak": (LEAKING, late_leak, "flat, then a leak from 40-75% of the window on"),
    "sawtooth-leak": (LEAKING, sawtooth_leak, "a leak under a GC sawtooth: the troughs climb"),
    "flat-noise": (BOUNDED, flat_noise, "flat memory with AR(1) noise and spikes"),
    "warmup-hold": (BOUNDED, warmup_hold, "a cache filling up, then holding for at least the last third"),
    "step-then-flat": (BOUNDED, step_then_flat, "one step (a burst of load) at 20-70% of the window"),
    "gc-sawtooth": (BOUNDED, gc_sawtooth, "a GC sawtooth around a flat mean"),
    "traffic-wave": (BOUNDED, traffic_wave, "memory following a traffic wave, one to four full periods"),
    "fragmentation": (BOUNDED, fragmentation, "fragmentation growth that flattens within the window"),
}


def case(shape: str, number: int, seed: int = SEED) -> Case:
    label, maker, _ = SHAPES[shape]
    sampling = LAB if number % 2 == 0 else PROMETHEUS
    rng = np.random.default_rng([seed, list(SHAPES).index(shape), number])
    made = maker(rng, sampling)
    values = np.where(made.grid.missing, np.nan, made.values)
    name = f"{shape}/{sampling}/{number:02d}" + (f"@{seed}" if seed != SEED else "")
    readings = [None if not np.isfinite(v) else float(v) for v in values]
    series = Series(made.grid.t.tolist(), readings, made.process, name)
    return Case(
        name=name,
        shape=shape,
        label=label,
        source=GENERATED,
        sampling=sampling,
        series=series,
        context=Context(limit_bytes=made.limit_bytes),
        leak_start_s=made.leak_start_s if label == LEAKING else None,
    )


@cache
def generated(seed: int = SEED) -> tuple[Case, ...]:
    return tuple(case(shape, number, seed) for shape in SHAPES for number in range(PER_SHAPE))
