"""What ``leaklab judge`` prints: one line per series, or JSON, and the exit code of them all.

Exit codes: 0 bounded, 1 leaking, 3 inconclusive (2 is bad input). With several series the worst one
decides: leaking over inconclusive over bounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..units import mib
from ..verdict import BOUNDED, INCONCLUSIVE, LEAKING, Verdict
from .inputs import Input

EXIT = {BOUNDED: 0, LEAKING: 1, INCONCLUSIVE: 3}
WORST = (LEAKING, INCONCLUSIVE, BOUNDED)


def span(seconds: float) -> str:
    """``45 s``, ``12.5 min``, ``3.2 h`` or ``2.1 d``."""
    s = abs(seconds)
    if s < 120:
        return f"{seconds:.0f} s"
    if s < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    if s < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _rate(v: Verdict) -> str:
    if v.rate_mib_per_min is None:
        return "rate –"
    text = f"{v.rate_mib_per_min:+.2f} MiB/min"
    if v.rate_low_mib_per_min is not None and v.rate_high_mib_per_min is not None:
        text += f" ({v.rate_low_mib_per_min:+.2f} to {v.rate_high_mib_per_min:+.2f})"
    return text


def _fit(v: Verdict, start: float) -> str:
    if v.from_s is None or v.to_s is None:
        return "no fit"
    text = f"fit {span(v.from_s - start)} to {span(v.to_s - start)} into the window"
    details = [
        f"{v.coverage:.0%} of it" if v.coverage is not None else "",
        f"R² {v.r2:.2f}" if v.r2 is not None else "",
    ]
    details.append(f"{v.points} points" if v.points else "")
    shown = ", ".join(d for d in details if d)
    return f"{text} ({shown})" if shown else text


def line(item: Input, v: Verdict, width: int = 0) -> str:
    """``name  verdict  rate  fit (coverage)  restarts  limit — reasons`` for one series."""
    start = min(item.series.t_s, default=0.0)
    parts = [f"{item.name:<{width}}", f"{v.verdict:<12}", _rate(v), _fit(v, start), f"restarts {v.restarts}"]
    if v.oom_kills:
        parts.append(f"OOM kills {v.oom_kills}")
    limit = item.context.limit_bytes
    if limit:
        if v.seconds_to_limit is None:
            when = "not approached"
        else:
            when = f"in {span(v.seconds_to_limit)}" if v.seconds_to_limit >= 1 else "reached"
        parts.append(f"limit {mib(limit, 0)} {when}")
    text = "  ".join(parts)
    return f"{text}  — {v.reason}" if v.reason else text


def as_json(item: Input, v: Verdict) -> dict[str, Any]:
    return {"name": item.name, **v.to_json(), "limit_bytes": item.context.limit_bytes}


def document(judged: Sequence[tuple[Input, Verdict]]) -> Any:
    """One object for one series, a list for several."""
    out = [as_json(item, v) for item, v in judged]
    return out[0] if len(out) == 1 else out


def exit_code(verdicts: Sequence[Verdict]) -> int:
    found = {v.verdict for v in verdicts}
    return next((EXIT[w] for w in WORST if w in found), EXIT[INCONCLUSIVE])
