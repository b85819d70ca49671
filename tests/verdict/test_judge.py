"""The one judge on series of known shape, among them each wrong verdict the lab used to give (issue 21's inputs).

Each series is synthetic, one reading a second unless said otherwise, in MiB turned into bytes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from leaklab.verdict import BOUNDED, INCONCLUSIVE, LEAKING, Context, Series, Verdict, judge

MIB = 1024 * 1024


def series(t: np.ndarray, mib: np.ndarray, process: list[int] | None = None) -> Series:
    return Series(t.tolist(), (mib * MIB).tolist(), process)


def verdict(t: np.ndarray, mib: np.ndarray, process: list[int] | None = None, **context: object) -> Verdict:
    return judge(series(t, mib, process), Context(**context))  # type: ignore[arg-type]


def one_process(n: int) -> list[int]:
    return [100] * n


T50 = np.arange(0, 51, 1.0)
NOISE = np.random.default_rng(7)


# 1. run length decided the verdict: a steady 4 MiB/min leak was bounded at 50 s
@pytest.mark.parametrize("seconds", [50, 90, 150])
def test_a_steady_4_mib_per_min_leak_is_leaking_whatever_the_run_length(seconds: int) -> None:
    t = np.arange(0, seconds + 1, 1.0)
    v = verdict(t, 60 + 4 * t / 60, one_process(len(t)))
    assert v.verdict == LEAKING
    assert v.rate_mib_per_min == pytest.approx(4.0, rel=0.01)
    noisy = verdict(t, 60 + 4 * t / 60 + NOISE.normal(0, 0.3, len(t)), one_process(len(t)))
    assert noisy.verdict == LEAKING, noisy.reason


# 2. a plateau after warm-up was called leaking
def test_a_cache_filling_by_45_s_is_not_leaking_at_50_s_and_bounded_at_100_s() -> None:
    v = verdict(T50, 60 + 30 * (1 - np.exp(-T50 / 15)))
    assert v.verdict != LEAKING, v.reason
    assert v.levelled and "levelling off" in v.reason
    t = np.arange(0, 101, 1.0)
    assert verdict(t, 60 + 30 * (1 - np.exp(-t / 15))).verdict == BOUNDED


def test_one_4_mib_step_then_flat_is_bounded_at_50_s() -> None:
    v = verdict(T50, 80 + 4.0 * (T50 >= 35))
    assert v.verdict == BOUNDED, v.reason
    assert abs(v.rate_mib_per_min or 0) < 0.1 and v.from_s == 35


# 3. no data was called bounded
@pytest.mark.parametrize(
    ("t", "mib"),
    [
        (np.array([]), np.array([])),  # an empty run
        (T50[:9], 60 + T50[:9]),  # too short to fit: 9 readings over 8 s
    ],
)
def test_too_little_data_is_inconclusive_and_says_so(t: np.ndarray, mib: np.ndarray) -> None:
    v = verdict(t, mib)
    assert v.verdict == INCONCLUSIVE
    assert v.reason.startswith("too short to tell")


def test_a_run_where_every_reading_is_missing_is_inconclusive() -> None:
    v = judge(Series(T50.tolist(), [None] * len(T50)))
    assert v.verdict == INCONCLUSIVE and "0 readings" in v.reason


# 4. the drill's rate through restarts
def test_a_60_mib_per_min_leak_restarted_every_28_s_is_leaking_at_60() -> None:
    t = np.arange(0, 180, 1.0)
    pids = (t // 28).astype(int).tolist()
    mib = 60 + 60 * (t % 28) / 60
    for process in (pids, None):  # with the PIDs, and told only by the drops back to the start level
        v = verdict(t, mib, process)
        assert v.verdict == LEAKING
        assert v.rate_mib_per_min == pytest.approx(60, rel=0.02)
        assert v.restarts == 6


def test_a_restart_that_is_no_oom_kill_leaves_its_start_up_and_refill_out() -> None:
    # two processes, each filling a bounded cache for 5 s then flat: the refill is warm-up, not growth
    t = np.arange(0, 120, 1.0)
    pids = [1 if x < 60 else 2 for x in t]
    mib = 60 + 10 * np.minimum((t % 60) / 5, 1)
    fill = [(x, min(1.0, (x % 60) / 5)) for x in t]
    assert verdict(t, mib, pids, fill=fill).verdict == BOUNDED


def test_an_oom_kill_is_a_leak_whatever_the_fit() -> None:
    v = verdict(T50, np.full(len(T50), 60.0), oom_kills=1)
    assert v.verdict == LEAKING and v.rules[0] == "oom"


# 6. the soak's shapes: the soak now takes this verdict, so they agree by construction
@pytest.mark.parametrize(
    ("seconds", "shape", "expected"),
    [
        (4 * 3600, lambda t: 80 + 0.5 * t / 60, LEAKING),  # 4 h at 0.5 MiB/min: 120 MiB more
        (60, lambda t: 80 + 5 * t / 60, LEAKING),  # 60 s at 5 MiB/min
        (600, lambda t: 80 + 8.0 * (t >= 200), BOUNDED),  # one 8 MiB step in a 10-minute soak
        (600, lambda t: 80 + 0 * t, BOUNDED),
    ],
)
def test_the_soaks_shapes(seconds: int, shape: object, expected: str) -> None:
    t = np.arange(0, seconds, 1.0)
    mib = shape(t) + NOISE.normal(0, 0.3, len(t))  # type: ignore[operator]
    v = verdict(t, mib, one_process(len(t)))
    assert v.verdict == expected, v.reason


def test_growth_under_the_tolerance_is_not_a_leak_and_the_tolerance_is_the_users() -> None:
    t = np.arange(0, 2 * 3600, 60.0)  # two hours, a reading a minute: 0.1 MiB/min, 12 MiB on 300 (4%)
    mib = 300 + 0.1 * t / 60 + NOISE.normal(0, 0.2, len(t))
    assert verdict(t, mib).verdict == BOUNDED
    assert verdict(t, mib, tolerance_mib_per_min=0.05).verdict == LEAKING


def test_a_slow_leak_seen_over_days_is_a_leak_below_the_tolerance() -> None:
    t = np.arange(0, 4 * 86400, 60.0)  # four days: 0.01 MiB/min adds 58 MiB to 400 (14%) and never levels off
    v = verdict(t, 400 + 0.01 * t / 60 + NOISE.normal(0, 3, len(t)))
    assert v.verdict == LEAKING and v.rate_mib_per_min == pytest.approx(0.01, rel=0.2)


def test_a_gc_sawtooth_around_a_flat_mean_is_bounded_and_one_over_a_leak_is_leaking() -> None:
    t = np.arange(0, 600, 1.0)
    tooth = 20 * ((t % 45) / 45)  # collected every 45 s
    assert verdict(t, 200 + tooth).verdict == BOUNDED
    v = verdict(t, 200 + tooth + 3 * t / 60)
    assert v.verdict == LEAKING and "sawtooth" in v.reason
    assert v.rate_mib_per_min == pytest.approx(3, rel=0.1)


def test_memory_that_follows_a_traffic_wave_is_not_a_leak() -> None:
    t = np.arange(0, 24 * 3600, 60.0)  # a day of one-minute readings; the wave ends on an upswing
    for phase in np.linspace(0, 2 * math.pi, 8, endpoint=False):
        v = verdict(t, 400 + 80 * np.sin(2 * math.pi * t / (14 * 3600) + phase) + NOISE.normal(0, 1, len(t)))
        assert v.verdict != LEAKING, (phase, v.reason)


def test_a_leak_that_starts_late_is_leaking_with_its_own_rate() -> None:
    t = np.arange(0, 600, 1.0)
    v = verdict(t, 100 + np.clip(t - 400, 0, None) * 2 / 60 + NOISE.normal(0, 0.2, len(t)))
    assert v.verdict == LEAKING
    assert v.rate_mib_per_min == pytest.approx(2, rel=0.15)
    assert v.from_s is not None and v.from_s >= 380


def test_leaving_out_an_excluded_window_and_the_time_to_the_limit() -> None:
    t = np.arange(0, 120, 1.0)
    mib = 60 + 10 * t / 60 + np.where((t >= 40) & (t <= 50), 30, 0)  # tracing costs 30 MiB for 10 s
    v = verdict(t, mib, excluded_s=[(40.0, 50.0)], limit_bytes=100 * MIB)
    assert v.verdict == LEAKING and v.rate_mib_per_min == pytest.approx(10, rel=0.01)
    assert v.seconds_to_limit == pytest.approx((100 - (60 + 10 * 119 / 60)) / 10 * 60, abs=1)


def test_a_label_leak_climbs_with_the_traffic_and_a_fixed_label_set_does_not() -> None:
    t = np.arange(0, 60, 1.0)
    requests = [(x, 30.0 * x) for x in t]  # 30 requests a second
    flat = 60 + 0 * t
    climbing = Series(t.tolist(), (100 + 30 * t).tolist(), None)  # a series per request
    v = verdict(t, flat, metric_series=climbing, requests=requests)
    assert v.verdict == LEAKING and v.rules == ("series",) and "1.0 per request" in v.reason
    # 9. the rule no longer depends on traffic x duration: a quarter of the traffic, half the run
    short = Series(t[:30].tolist(), (100 + 7.5 * t[:30]).tolist(), None)
    slow = [(x, 7.5 * x) for x in t[:30]]
    assert verdict(t[:30], flat[:30], metric_series=short, requests=slow).rules == ("series",)
    fixed = Series(t.tolist(), [72 if x < 10 else 162 for x in t], None)  # the debug collector's sites appear once
    assert verdict(t, flat, metric_series=fixed, requests=requests).verdict == BOUNDED


def test_readings_out_of_order_duplicated_or_not_finite_are_cleaned() -> None:
    t = np.arange(0, 61, 1.0)
    mib = 60 + 6 * t / 60
    order = np.random.default_rng(1).permutation(len(t))
    values: list[float | None] = [float(v) for v in (mib * MIB)[order]]
    values[3], values[5] = None, math.nan
    v = judge(Series([*t[order].tolist(), 10.0], [*values, 60 * MIB + 6 * 10 / 60 * MIB]))
    assert v.verdict == LEAKING and v.rate_mib_per_min == pytest.approx(6, rel=0.01)


def test_a_short_lab_run_with_flat_readings_is_bounded_and_a_page_or_two_is_no_leak() -> None:
    """20 s of a fixed mode: readings identical to the page, a tracemalloc window left out in the middle."""
    t = np.arange(0, 21, 1.0)
    flat = np.full(len(t), 68.3)
    assert verdict(t, flat, one_process(len(t)), excluded_s=[(5.0, 8.0)]).verdict == BOUNDED
    t = np.arange(0, 31, 1.0)  # 30 s, as the recorded redis run: 0.2 MiB more, once (the allocator)
    pages = 67.0 + np.where(t >= 20, 0.2, 0.0)
    assert verdict(t, pages, one_process(len(t)), excluded_s=[(5.0, 8.0)]).verdict != LEAKING


def test_a_small_creep_that_stops_is_bounded_however_wide_its_interval() -> None:
    """A plateau example's memory after its fill: 0.3 MiB of staircase creep, then 14 s at the same page.
    Its readings move together, so the slope's interval is wide; but they never spread more than 2 MiB/min."""
    t = np.arange(10, 34, 1.0)
    creep = [31.99, 32.01, 32.02, 32.06, 32.12, 32.15, 32.17, 32.25, 32.27, 32.31] + [32.3] * 2 + [32.32] * 12
    v = verdict(t, np.array(creep), one_process(len(t)))
    assert v.verdict == BOUNDED, v.reason


def test_a_plateau_whose_latest_third_wobbles_is_bounded_by_the_stretch_that_levelled_off() -> None:
    """The bounded example as a loaded CI machine recorded it (40 s, tracing from 34 s): a fill to 32 MiB by
    9 s, 0.7 MiB of creep, then 0.3 MiB given back. Its latest third alone (9 readings) has an interval too
    wide to call; but since the fill its readings never spread more than 2 MiB/min allows."""
    t = np.arange(0, 41, 1.0)
    mib = [24.19, 24.39, 25.3, 26.57, 27.81, 29.04, 30.36, 31.47, 31.98, 32.11, 32.11, 32.21, 32.24, 32.25]
    mib += [32.31, 32.33, 32.33, 32.34, 32.35, 32.39, 32.39, 32.39, 32.43, 32.5, 32.56, 32.66, 32.71, 32.81]
    mib += [32.84, 32.84, 32.55, 32.55, 32.55, 32.55, 32.56, 33.77, 39.12, 38.88, 39.64, 40.21, 50.7]
    recorded = {"excluded_s": [(34.0, 40.0)], "load_s": (1.0, None)}  # as the run's summary gives them
    v = verdict(t, np.array(mib), one_process(len(t)), **recorded)
    assert v.verdict == BOUNDED, v.reason
    assert v.levelled
    creeping = np.array([*mib[:30], 32.9, 33.0, 33.1, 33.2, *mib[34:]])  # the same, still creeping at the end
    assert verdict(t, creeping, one_process(len(t)), **recorded).verdict != BOUNDED
