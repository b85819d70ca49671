"""One labelled series of the corpus, and how it looked at an earlier moment (for the time to a verdict)."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

import numpy as np

from ...verdict import Context, Series

GENERATED, RECORDED = "generated", "recorded"


@dataclass(frozen=True)
class Case:
    """A series labelled by how it was made: ``leaking`` (with when the leak started) or ``bounded``."""

    name: str
    shape: str
    label: str
    source: str  # GENERATED or RECORDED
    sampling: str  # "lab" (1 s) or "prometheus" (15 s or 60 s)
    series: Series
    context: Context  # limit_bytes is always set: the predict_linear baseline needs one
    leak_start_s: float | None = None
    oom_s: tuple[float, ...] = ()

    @property
    def limit_bytes(self) -> float:
        return float(self.context.limit_bytes or 0.0)

    @property
    def start_s(self) -> float:
        return float(self.series.t_s[0])

    @property
    def end_s(self) -> float:
        return float(self.series.t_s[-1])

    def arrays(self, end_s: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Times and values with the missing readings left out (up to ``end_s``), for the baselines."""
        t = np.asarray(self.series.t_s, dtype=float)
        v = np.array([np.nan if x is None else x for x in self.series.values], dtype=float)
        keep = np.isfinite(v) if end_s is None else np.isfinite(v) & (t <= end_s)
        return t[keep], v[keep]


def _cut(series: Series, end_s: float) -> Series:
    n = bisect.bisect_right(list(series.t_s), end_s)
    process = list(series.process[:n]) if series.process is not None else None
    return Series(list(series.t_s[:n]), list(series.values[:n]), process, series.name)


def at(case: Case, end_s: float) -> tuple[Series, Context]:
    """The series and its context as they were at ``end_s``: nothing after it is known yet."""
    c = case.context
    load = c.load_s
    if load is not None:
        load = (load[0], load[1] if load[1] is not None and load[1] <= end_s else None) if load[0] <= end_s else None
    context = replace(
        c,
        oom_kills=sum(1 for t in case.oom_s if t <= end_s),
        excluded_s=[(a, min(b, end_s)) for a, b in c.excluded_s if a <= end_s],
        load_s=load,
        fill=[f for f in c.fill if f[0] <= end_s],
        metric_series=_cut(c.metric_series, end_s) if c.metric_series is not None else None,
        requests=[r for r in c.requests if r[0] <= end_s],
    )
    return _cut(case.series, end_s), context
