"""What the judge reads (a memory series and what else is known of the run) and what it answers."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

LEAKING = "leaking"
BOUNDED = "bounded"
INCONCLUSIVE = "inconclusive"
VERDICTS = (LEAKING, BOUNDED, INCONCLUSIVE)


@dataclass(frozen=True, slots=True)
class Series:
    """Readings of one process' memory (or a count) over time; ``None`` where a reading is missing.

    ``t_s`` is in seconds from any origin, increasing or not (it is sorted); ``values`` in bytes for memory.
    ``process`` names the process behind each reading (a PID, a start time) when the source knows it: a
    change is a restart. Without it, a drop back towards the start level is taken for one.
    """

    t_s: Sequence[float]
    values: Sequence[float | None]
    process: Sequence[Hashable | None] | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Context:
    """What else is known of the run; all of it optional. Times are on the series' own clock."""

    oom_kills: int = 0  # kills at the memory limit: memory reached the limit, a leak by itself
    excluded_s: Sequence[tuple[float, float]] = ()  # windows to leave out (tracing allocations, settling)
    load_s: tuple[float, float | None] | None = None  # when the load started (and stopped): warm-up before it
    fill: Sequence[tuple[float, float]] = ()  # (t_s, fill 0..1) of the bounded structures: warm-up until full
    metric_series: Series | None = None  # series on the /metrics page over time: a label leak climbs with traffic
    requests: Sequence[tuple[float, float]] = ()  # (t_s, cumulative requests), for per-request figures
    limit_bytes: float | None = None  # the memory limit, for the time to reach it
    tolerance_mib_per_min: float | None = None  # slower growth is not called a leak (None: the default)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer: leaking, bounded or inconclusive, with the figures and sentences behind it."""

    verdict: str
    rate_mib_per_min: float | None = None  # the fitted rate of the final trend
    rate_low_mib_per_min: float | None = None  # its 95% interval
    rate_high_mib_per_min: float | None = None
    r2: float | None = None
    from_s: float | None = None  # the window the final trend was fitted over
    to_s: float | None = None
    coverage: float | None = None  # that window's share of the observed span
    points: int = 0
    restarts: int = 0  # restarts seen in the series (process changes, drops back to the start level)
    oom_kills: int = 0
    levelled: bool = False  # memory rose and then levelled off within the window
    seconds_to_limit: float | None = None
    rules: tuple[str, ...] = ()  # what called it leaking: "oom", "memory", "series"
    reasons: tuple[str, ...] = field(default_factory=tuple)  # one sentence each, for people

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["rules"], out["reasons"] = list(self.rules), list(self.reasons)
        return out
