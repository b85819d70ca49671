"""The verdict rule on memory curves of known shape: a plateau above the start is not a leak."""

from __future__ import annotations

import math

from leaklab.lab.sampler import Sample
from leaklab.lab.triage import classify
from leaklab.lab.verdict import analyse

MB = 1024 * 1024  # MiB


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
    curve = [50 + 12 * (1 - math.exp(-t / 3)) for t in range(40)]  # +12 MiB in the first seconds, then flat
    result = analyse(_samples(curve), oom_kills=0)
    assert result["verdict"] == "bounded"
    assert result["rss_plateau_mib"] > result["rss_start_mib"] + 10


def test_noise_around_a_plateau_is_bounded() -> None:
    curve = [60 + (0.8 if t % 3 == 0 else -0.5) for t in range(60)]
    assert analyse(_samples(curve), oom_kills=0)["verdict"] == "bounded"


def test_an_oom_kill_is_a_leak_whatever_the_fit() -> None:
    assert analyse(_samples([60.0] * 20), oom_kills=1)["verdict"] == "leaking"


def test_the_memory_tracemalloc_leaves_behind_is_not_a_leak() -> None:
    curve = [57.0] * 6 + [58.0, 58.2, 58.3] + [61.0] * 25  # a +3 MiB step after the tracing window (t 6..8)
    assert analyse(_samples(curve, tracing=range(6, 9)), oom_kills=0)["verdict"] == "bounded"


def test_restarts_start_a_new_line() -> None:
    first, second = _samples([50 + 6 * t for t in range(20)]), _samples([50 + 6 * t for t in range(20)], pid=101)
    for s in second:
        s.t_s += 20
    result = analyse(first + second, oom_kills=0)
    assert result["verdict"] == "leaking"
    assert math.isclose(result["leak_rate_mib_per_min"], 360, rel_tol=0.01)  # not dragged down by the drop


def _with_series(series: list[int | None], rss_mb: float = 60.0, per_s: int = 150) -> list[Sample]:
    """Flat memory (the memory rule never holds) and a /metrics page with ``series`` samples at each second."""
    samples = _samples([rss_mb] * len(series))
    for t, (s, count) in enumerate(zip(samples, series, strict=True)):
        s.metric_series, s.requests_total = count, per_s * t
    return samples


def test_a_series_count_that_climbs_with_the_traffic_is_a_label_leak() -> None:
    result = analyse(_with_series([100 + 15 * 150 * t for t in range(40)]), oom_kills=0)  # 15 series per request
    assert result["verdict"] == "leaking"
    assert result["verdict_rules"] == ["series"]
    assert result["metric_series_growth"] > 20_000
    assert "15.0 per request" in result["verdict_reason"] and "label leak" in result["verdict_reason"]
    sites = {"sites": [{"site": "prometheus_client/metrics.py:1", "caller": "x.py:3"}]}
    assert classify({**result, "alloc": sites})["leak_class"] == "python objects"


def test_a_fixed_set_of_series_is_bounded() -> None:
    # the route's and statuses' series on the first requests, then the debug collector's top sites
    curve = [72, 72, 102, 102, 102, 102, None, None, None] + [162] * 31
    result = analyse(_with_series(curve), oom_kills=0)
    assert result["verdict"] == "bounded" and result["verdict_rules"] == []
    assert abs(result["metric_series_growth"]) < 200


def test_a_noisy_or_short_series_count_is_not_a_leak() -> None:
    noisy = [5000 + (4000 if t % 2 else -4000) + 20 * t for t in range(40)]  # drifts a little, mostly noise
    assert "series" not in analyse(_with_series(noisy), oom_kills=0)["verdict_rules"]
    short = [None] * 30 + [100, 5000, 10_000] + [None] * 7  # three scrapes say nothing either way
    assert "series" not in analyse(_with_series(short), oom_kills=0)["verdict_rules"]


def test_a_restart_starts_a_new_series_line() -> None:
    first = _with_series([100 + 2000 * t for t in range(20)])
    second = _with_series([100 + 2000 * t for t in range(20)])
    for s in second:
        s.t_s += 20
        s.api_pid = 101
    assert analyse(first + second, oom_kills=0)["verdict_rules"] == ["series"]


def test_warm_up_lasts_until_the_bounded_cache_is_full_in_every_process() -> None:
    # each process fills its LRU for 8 s (memory rising 1 MiB a second), then holds: no leak, even though
    # the second process (a restart that is no OOM kill) refills it in the middle of the run
    samples = []
    for pid, start in ((100, 0), (101, 30)):
        for i in range(30):
            s = _samples([60 + min(i, 8)], pid=pid)[0]
            s.t_s = float(start + i)
            s.cache_entries, s.cache_limit_entries = float(min(50, 50 * i / 8)), 50.0
            s.requests_total = 10 * (start + i)
            samples.append(s)
    result = analyse(samples, oom_kills=0)
    assert result["verdict"] == "bounded", result["verdict_reason"]


def test_a_bounded_cache_still_filling_at_the_end_is_inconclusive() -> None:
    samples = _samples([60 + 0.5 * t for t in range(40)])
    for t, s in enumerate(samples):
        s.cache_entries, s.cache_limit_entries = float(t), 1000.0  # never full
    result = analyse(samples, oom_kills=0)
    assert result["verdict"] == "inconclusive" and "still filling" in result["verdict_reason"]


def test_the_hit_ratio_at_every_lookup_a_hit_is_100_percent() -> None:
    samples = _samples([60.0] * 30)
    samples[-1].hits_total, samples[-1].misses_total = 500.0, 0.0
    assert analyse(samples, oom_kills=0)["hit_ratio"] == 1.0
