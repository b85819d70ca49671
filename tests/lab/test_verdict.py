"""The verdict rule on memory curves of known shape: a plateau above the start is not a leak."""

from __future__ import annotations

import math

from leaklab.lab.sampler import Sample
from leaklab.lab.verdict import analyse

MB = 1024 * 1024


def _samples(rss_mb: list[float], pid: int = 100, tracing: range = range(0)) -> list[Sample]:
    return [
        Sample("m", float(t), 1e9 + t, pid, 1, int(mb * MB), limit_bytes=192 * MB, tracing=int(t in tracing))
        for t, mb in enumerate(rss_mb)
    ]


def test_steady_growth_is_a_leak_with_its_rate() -> None:
    result = analyse(_samples([50 + 2 * t for t in range(40)]), oom_kills=0)
    assert result["verdict"] == "leaking"
    assert math.isclose(result["leak_rate_mib_per_min"], 120, rel_tol=0.01)
    assert result["fit_r2"] > 0.99


def test_a_cache_that_fills_and_levels_off_is_bounded() -> None:
    curve = [50 + 12 * (1 - math.exp(-t / 3)) for t in range(40)]  # +12 MB in the first seconds, then flat
    result = analyse(_samples(curve), oom_kills=0)
    assert result["verdict"] == "bounded"
    assert result["rss_plateau_mib"] > result["rss_start_mib"] + 10


def test_noise_around_a_plateau_is_bounded() -> None:
    curve = [60 + (0.8 if t % 3 == 0 else -0.5) for t in range(60)]
    assert analyse(_samples(curve), oom_kills=0)["verdict"] == "bounded"


def test_an_oom_kill_is_a_leak_whatever_the_fit() -> None:
    assert analyse(_samples([60.0] * 20), oom_kills=1)["verdict"] == "leaking"


def test_the_memory_tracemalloc_leaves_behind_is_not_a_leak() -> None:
    curve = [57.0] * 6 + [58.0, 58.2, 58.3] + [61.0] * 11  # a +3 MB step after the tracing window (t 6..8)
    assert analyse(_samples(curve, tracing=range(6, 9)), oom_kills=0)["verdict"] == "bounded"


def test_restarts_start_a_new_line() -> None:
    first, second = _samples([50 + 6 * t for t in range(20)]), _samples([50 + 6 * t for t in range(20)], pid=101)
    for s in second:
        s.t_s += 20
    result = analyse(first + second, oom_kills=0)
    assert result["verdict"] == "leaking"
    assert math.isclose(result["leak_rate_mib_per_min"], 360, rel_tol=0.01)  # not dragged down by the drop
