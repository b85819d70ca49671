"""Scoring a method on the corpus: precision, recall and F1 of "leaking", what it gets wrong, and how soon.

A method answers ``leaking``, ``bounded`` or ``inconclusive`` for a case as it looked at some moment.
``inconclusive`` on a leak is a miss, and on a bounded series not a false alarm; its share is counted on
its own. The time to a verdict: each leaking series is cut at ``prefixes`` evenly spaced moments after
its leak started (the last one is the whole window); the first cut a method calls leaking is when it
would have said so. Its median is taken over the leaks the method calls leaking on the whole window,
separately for lab-like series (seconds) and Prometheus-like ones (minutes).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..verdict import BOUNDED, INCONCLUSIVE, LEAKING, judge
from .baselines import BASELINES
from .corpus.case import Case, at
from .corpus.grid import LAB

Method = Callable[[Case, float | None], str]  # (case, end of the window or None for all of it) -> verdict
JUDGE = "leaklab judge"


def judge_method(case: Case, end_s: float | None) -> str:
    series, context = (case.series, case.context) if end_s is None else at(case, end_s)
    return judge(series, context).verdict


def baseline_method(rule: Callable[..., bool]) -> Method:
    def answer(case: Case, end_s: float | None) -> str:
        t, v = case.arrays(end_s)
        return LEAKING if rule(t, v, case.limit_bytes) else BOUNDED

    return answer


METHODS: dict[str, Method] = {JUDGE: judge_method, **{name: baseline_method(r) for name, r in BASELINES.items()}}


@dataclass
class Score:
    """One method's answers on the corpus, and the figures drawn from them."""

    method: str
    verdicts: dict[str, str] = field(default_factory=dict)  # case name -> verdict on the whole window
    detect_s: dict[str, float] = field(default_factory=dict)  # leaking case -> seconds from leak start to verdict

    def figures(self, cases: Sequence[Case]) -> dict[str, object]:
        leaks = [c for c in cases if c.label == LEAKING]
        said = {c.name: self.verdicts[c.name] for c in cases}
        tp = sum(said[c.name] == LEAKING for c in leaks)
        fp = sum(said[c.name] == LEAKING for c in cases if c.label == BOUNDED)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / len(leaks) if leaks else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        shapes = list(dict.fromkeys(c.shape for c in cases))
        wrong = {s: sum(said[c.name] != c.label for c in cases if c.shape == s) for s in shapes}
        inconclusive = {s: sum(said[c.name] == INCONCLUSIVE for c in cases if c.shape == s) for s in shapes}

        def median(sampling: str, unit_s: float) -> float | None:
            times = [
                self.detect_s[c.name] / unit_s for c in leaks if c.sampling == sampling and c.name in self.detect_s
            ]
            return round(statistics.median(times), 1) if times else None

        return {
            "method": self.method,
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "true_leaking": tp,
            "false_leaking": fp,
            "inconclusive_share": round(sum(v == INCONCLUSIVE for v in said.values()) / len(cases), 3),
            "median_to_verdict_lab_s": median(LAB, 1.0),
            "median_to_verdict_prometheus_min": median("prometheus", 60.0),
            "wrong_by_shape": wrong,
            "inconclusive_by_shape": inconclusive,
            "wrong_cases": sorted(c.name for c in cases if said[c.name] != c.label),
        }


def cuts(case: Case, prefixes: int) -> list[float]:
    """The moments a leaking series is judged at: evenly after the leak's start, the last at the window's end."""
    start = case.leak_start_s if case.leak_start_s is not None else case.start_s
    return [start + (case.end_s - start) * k / prefixes for k in range(1, prefixes + 1)]


def score(
    cases: Sequence[Case],
    methods: dict[str, Method] | None = None,
    prefixes: int = 0,
    progress: Callable[[int], None] | None = None,
) -> list[Score]:
    """Every method on every case (and on ``prefixes`` cuts of each leak it calls leaking)."""
    scores = []
    for name, method in (methods or METHODS).items():
        result = Score(name)
        for case in cases:
            result.verdicts[case.name] = method(case, None)
            earlier = cuts(case, prefixes)[:-1] if prefixes and case.label == LEAKING else []
            if earlier and result.verdicts[case.name] == LEAKING:
                start = case.leak_start_s if case.leak_start_s is not None else case.start_s
                result.detect_s[case.name] = case.end_s - start
                for cut in earlier:
                    if method(case, cut) == LEAKING:
                        result.detect_s[case.name] = cut - start
                        break
            if progress:
                progress(1 + len(earlier))  # at most that many answers: the cuts after the first call need none
        scores.append(result)
    return scores
