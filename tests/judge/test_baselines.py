"""The baselines answer as their sources define them (Prometheus' own ``predict_linear`` is checked in
``test_prometheus.py``, against a real Prometheus)."""

from __future__ import annotations

import math

import numpy as np

from leaklab.judge.baselines import (
    LAB_RULE,
    PROMETHEUS_RULE,
    mann_kendall,
    mann_kendall_z,
    predict_linear,
    rule_for,
    slope_threshold,
)

MIB = 1024 * 1024


def test_mann_kendall_z_matches_the_textbook_formula() -> None:
    # ten rising values: S = 45 pairs, Var(S) = 10 * 9 * 25 / 18 = 125, z = (45 - 1) / sqrt(125)
    assert math.isclose(mann_kendall_z(np.arange(10.0)), 44 / math.sqrt(125))
    # ties shrink the variance: 1,1,2,2,3 -> S = 8, Var = (5*4*15 - 2 * (2*1*9)) / 18 = 14.667
    assert math.isclose(mann_kendall_z(np.array([1.0, 1, 2, 2, 3])), 7 / math.sqrt(264 / 18))


def test_mann_kendall_calls_an_upward_trend_and_not_a_flat_or_falling_one() -> None:
    rng = np.random.default_rng(5)
    t = np.arange(600.0)
    noise = rng.normal(0, 1 * MIB, 600)
    assert mann_kendall(t, 100 * MIB + 2 * MIB * t / 600 + noise)
    assert not mann_kendall(t, 100 * MIB + noise)
    assert not mann_kendall(t, 100 * MIB - 2 * MIB * t / 600 + noise)


def test_mann_kendall_bins_a_long_series_and_still_sees_its_trend() -> None:
    t = np.arange(20_000.0) * 15
    assert mann_kendall(t, 500 * MIB + t * 10 + 5 * MIB * np.sin(t / 300))


def test_the_slope_threshold_is_coroots_10_mib_per_hour() -> None:
    t = np.arange(0, 6 * 3600, 60.0)
    assert slope_threshold(t, 200 * MIB + 11 * MIB * t / 3600)
    assert not slope_threshold(t, 200 * MIB + 9 * MIB * t / 3600)


def test_predict_linear_uses_the_labs_rule_at_1_s_and_the_capacity_rule_at_15_s() -> None:
    assert rule_for(np.arange(0, 300, 1.0)) == LAB_RULE
    assert rule_for(np.arange(0, 36000, 15.0)) == PROMETHEUS_RULE


def test_predict_linear_fires_only_when_the_prediction_held_for_the_whole_for_span() -> None:
    t = np.arange(0, 300, 1.0)
    v = 100 * MIB + 0.1 * MIB * t  # 6 MiB/min: in 5 min, 30 MiB more than now
    at_end = float(v[-1] + 30 * MIB)
    assert predict_linear(t, v, at_end - 4 * MIB)  # true for the last 40 s: fires (for 30 s)
    assert not predict_linear(t, v, at_end - 2 * MIB)  # true for the last 20 s only: still pending
    assert not predict_linear(t, v, 0.0)  # no limit, no alert
