"""The corpus is what its description says: 200+ labelled series, each shape honest on its own chart."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from leaklab.judge.corpus import Case, corpus
from leaklab.judge.corpus.generated import PER_SHAPE, SHAPES, case
from leaklab.judge.corpus.recorded import HERE, RECORDINGS
from leaklab.judge.rundir import read_run
from leaklab.lab.catalogue import SCENARIOS, catalogue_runs
from leaklab.verdict import BOUNDED, LEAKING

CASES = corpus()


def of(shape: str) -> list[Case]:
    return [c for c in CASES if c.shape == shape]


def chunk(c: Case, a: float, b: float, percentile: float = 50) -> float:
    """The median (or another percentile) of the readings between fractions ``a`` and ``b`` of the window."""
    t, v = c.arrays()
    x = (t - t[0]) / (t[-1] - t[0])
    return float(np.percentile(v[(x >= a) & (x <= b)], percentile))


def test_at_least_200_series_both_labels_both_sampling_classes() -> None:
    assert len(CASES) >= 200
    labels = Counter(c.label for c in CASES)
    assert labels[LEAKING] >= 100 and labels[BOUNDED] >= 100
    assert Counter(c.sampling for c in CASES).keys() == {"lab", "prometheus"}
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.shape for c in CASES} >= set(SHAPES) and all(len(of(s)) == PER_SHAPE for s in SHAPES)


def test_the_generated_series_come_from_fixed_seeds() -> None:
    assert case("traffic-wave", 7).series == case("traffic-wave", 7).series
    assert case("traffic-wave", 7).series != case("traffic-wave", 9).series


def test_every_case_has_a_limit_and_every_leak_a_start_within_its_window() -> None:
    for c in CASES:
        assert c.limit_bytes > 0, c.name
        if c.label == LEAKING:
            assert c.leak_start_s is not None and c.start_s <= c.leak_start_s < c.end_s, c.name
        else:
            assert c.leak_start_s is None, c.name


def test_sampling_is_lab_like_or_prometheus_like() -> None:
    for c in CASES:
        t = np.asarray(c.series.t_s)
        step = float(np.median(np.diff(t)))
        if c.sampling == "lab":
            assert step == pytest.approx(1.0, abs=0.1) and 25 <= t[-1] - t[0] <= 600, c.name
        else:
            assert step == pytest.approx(15, abs=1) or step == pytest.approx(60, abs=1), c.name
            assert 2 * 3600 <= t[-1] - t[0] <= 4 * 86400 and t[0] > 1e9, c.name  # Unix times


def test_leaks_grow_by_a_tenth_of_the_process_at_least_and_never_level_off() -> None:
    for shape in ("steady-leak", "slow-noisy-leak", "late-leak", "sawtooth-leak"):
        for c in of(shape):
            start = (c.leak_start_s - c.start_s) / (c.end_s - c.start_s)  # type: ignore[operator]
            low = 5 if shape == "sawtooth-leak" else 50  # under GC teeth, the troughs
            before = chunk(c, max(0.0, start - 0.05), start + 0.05, low)
            assert chunk(c, 0.9, 1.0, low) - before >= 0.07 * before, c.name
            assert chunk(c, 0.85, 1.0, low) > chunk(c, 0.6, 0.75, low), c.name  # still climbing at the end


def test_late_leaks_start_between_40_and_75_percent_of_the_window() -> None:
    for c in of("late-leak"):
        share = (c.leak_start_s - c.start_s) / (c.end_s - c.start_s)  # type: ignore[operator]
        assert 0.39 <= share <= 0.76, c.name


def test_oom_restarts_climb_to_the_limit_and_restart_at_least_twice() -> None:
    for shape in ("oom-restarts", "oom-restarts-unkeyed"):
        for c in of(shape):
            _, v = c.arrays()
            drops = int(np.sum(np.diff(v) < -0.25 * (v.max() - v.min())))
            assert drops >= 2 and v.max() >= 0.97 * c.limit_bytes, c.name
            keys = {p for p in c.series.process or [] if p is not None}
            assert len(keys) == (drops + 1 if shape == "oom-restarts" else 0), c.name


def test_warm_ups_hold_for_at_least_the_last_third() -> None:
    for c in of("warmup-hold"):
        rise = chunk(c, 0.9, 1.0) - chunk(c, 0.0, 0.03)
        assert rise > 0 and abs(chunk(c, 0.9, 1.0) - chunk(c, 0.67, 0.77)) < 0.05 * rise, c.name


def test_steps_come_between_20_and_70_percent_then_memory_is_flat() -> None:
    for c in of("step-then-flat"):
        step = chunk(c, 0.9, 1.0) - chunk(c, 0.0, 0.18)
        assert step > 0 and abs(chunk(c, 0.72, 0.85) - chunk(c, 0.88, 1.0)) < 0.2 * step, c.name


def test_fragmentation_flattens_within_the_window() -> None:
    for c in of("fragmentation"):
        growth = chunk(c, 0.9, 1.0) - chunk(c, 0.0, 0.02)
        assert growth > 0 and chunk(c, 0.9, 1.0) - chunk(c, 0.6, 0.7) < 0.15 * growth, c.name


def test_sawtooths_have_several_teeth_and_waves_a_full_period() -> None:
    for shape in ("gc-sawtooth", "sawtooth-leak"):
        for c in of(shape):
            t, v = c.arrays()
            residual = v - np.polyval(np.polyfit(t - t[0], v, 1), t - t[0])
            amplitude = np.percentile(residual, 95) - np.percentile(residual, 5)
            assert int(np.sum(np.diff(v) < -0.5 * amplitude)) >= 4, c.name
    for c in of("traffic-wave"):
        _, v = c.arrays()
        smooth = np.convolve(v - v.mean(), np.ones(9) / 9, mode="valid")
        signs = np.sign(smooth[np.abs(smooth) > 0.3 * np.abs(smooth).max()])
        assert np.count_nonzero(np.diff(signs)) >= 2, c.name  # up through the mean and down again, at least


def test_the_recordings_hold_every_catalogue_scenario_leaky_and_fixed_and_the_cache_modes() -> None:
    assert (HERE / "catalogue-30s").is_dir()
    for recording in RECORDINGS:
        if not (HERE / recording).is_dir():
            continue
        modes = [item.name for item in read_run(HERE / recording)]
        expected = catalogue_runs(list(SCENARIOS)) if recording.startswith("catalogue") else ["redis"]
        assert modes == expected, recording
    labels = {c.name.rsplit("/", 1)[1]: c.label for c in CASES if c.source == "recorded"}
    assert labels["cache"] == labels["tasks"] == LEAKING
    assert labels["cache-fixed"] == labels["tasks-fixed"] == BOUNDED
