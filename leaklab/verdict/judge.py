"""Placeholder: a plain least-squares rule, replaced by the real judge (work in progress)."""

from __future__ import annotations

import math

from .model import BOUNDED, INCONCLUSIVE, LEAKING, Context, Series, Verdict

MIB = 1024 * 1024


def judge(series: Series, context: Context | None = None) -> Verdict:
    ctx = context or Context()
    pts = sorted((t, v) for t, v in zip(series.t_s, series.values, strict=True) if v is not None and math.isfinite(v))
    if len(pts) < 8 or pts[-1][0] - pts[0][0] < 20:
        return Verdict(INCONCLUSIVE, reasons=("too short to tell",))
    n = len(pts)
    mt = sum(t for t, _ in pts) / n
    my = sum(v for _, v in pts) / n
    sxx = sum((t - mt) ** 2 for t, _ in pts)
    slope = sum((t - mt) * (v - my) for t, v in pts) / sxx * 60 / MIB
    if ctx.oom_kills or slope >= 1.0:
        return Verdict(LEAKING, rate_mib_per_min=slope, rules=("memory",), reasons=(f"{slope:.1f} MiB/min",))
    return Verdict(BOUNDED, rate_mib_per_min=slope)
