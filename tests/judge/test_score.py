"""The judge on the labelled corpus, held to the floors of issue 19; and the scoring arithmetic itself.

The floors: precision and recall of "leaking" at least 0.95, at most 5% inconclusive, no false "leaking"
on a warm-up, a step or a traffic wave, and a better F1 than every baseline.
"""

from __future__ import annotations

import statistics
from typing import Any

import pytest

from leaklab.judge.corpus import Case, corpus
from leaklab.judge.score import JUDGE, Score, cuts, score
from leaklab.verdict import BOUNDED, LEAKING

CASES = corpus()
MIN_PRECISION = MIN_RECALL = 0.95
MAX_INCONCLUSIVE = 0.05
NEVER_LEAKING = ("warmup-hold", "step-then-flat", "traffic-wave")


@pytest.fixture(scope="module")
def scores() -> dict[str, Score]:
    """Every method on the whole window of every case (no prefixes: the time to a verdict is the bench's)."""
    return {s.method: s for s in score(CASES)}


@pytest.fixture(scope="module")
def figures(scores: dict[str, Score]) -> dict[str, dict[str, Any]]:
    return {name: s.figures(CASES) for name, s in scores.items()}


def test_precision_and_recall_of_leaking_reach_the_floor(figures: dict[str, dict[str, Any]]) -> None:
    judged = figures[JUDGE]
    assert judged["precision"] >= MIN_PRECISION and judged["recall"] >= MIN_RECALL, (
        f"precision {judged['precision']}, recall {judged['recall']}; wrong: {judged['wrong_cases']}"
    )


def test_at_most_5_percent_inconclusive(figures: dict[str, dict[str, Any]]) -> None:
    share = figures[JUDGE]["inconclusive_share"]
    assert share <= MAX_INCONCLUSIVE, f"{share:.1%} inconclusive: {figures[JUDGE]['inconclusive_by_shape']}"


def test_no_false_leaking_on_a_warm_up_a_step_or_a_traffic_wave(scores: dict[str, Score]) -> None:
    verdicts = scores[JUDGE].verdicts
    assert [c.name for c in CASES if c.shape in NEVER_LEAKING and verdicts[c.name] == LEAKING] == []


def test_ahead_of_every_baseline_on_f1(figures: dict[str, dict[str, Any]]) -> None:
    ours = figures[JUDGE]["f1"]
    behind = {name: f["f1"] for name, f in figures.items() if name != JUDGE and f["f1"] >= ours}
    assert not behind, f"judge F1 {ours} is not ahead of {behind}"


def oracle(case: Case, end_s: float | None) -> str:
    return case.label


def always_leaking(case: Case, end_s: float | None) -> str:
    return LEAKING


def test_a_perfect_method_scores_1_and_one_that_always_says_leaking_scores_the_share_of_leaks() -> None:
    perfect, eager = score(CASES, {"oracle": oracle, "eager": always_leaking}, prefixes=4)
    best = perfect.figures(CASES)
    assert (best["precision"], best["recall"], best["f1"], best["inconclusive_share"]) == (1.0, 1.0, 1.0, 0.0)
    assert all(n == 0 for n in best["wrong_by_shape"].values()) and best["wrong_cases"] == []
    worst = eager.figures(CASES)
    leaks = sum(c.label == LEAKING for c in CASES)
    assert worst["precision"] == pytest.approx(leaks / len(CASES), abs=0.001) and worst["recall"] == 1.0
    assert worst["false_leaking"] == sum(c.label == BOUNDED for c in CASES)


def test_the_time_to_a_verdict_is_the_first_cut_called_leaking() -> None:
    lab_leaks = [c for c in CASES if c.label == LEAKING and c.sampling == "lab"]
    (eager,) = score(lab_leaks, {"eager": always_leaking}, prefixes=4)
    first = [cuts(c, 4)[0] - (c.leak_start_s or c.start_s) for c in lab_leaks]
    assert eager.figures(lab_leaks)["median_to_verdict_lab_s"] == pytest.approx(statistics.median(first), abs=0.1)
