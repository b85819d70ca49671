"""What one mode's run recorded: its samples, events, load totals and allocation sites (data only).

``runner`` fills it in; the live view and the report read it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .load import FinalStats
from .sampler import Sample


@dataclass(slots=True)
class ModeResult:
    mode: str
    samples: list[Sample] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    load: FinalStats | None = None
    alloc: dict[str, Any] | None = None
    limit_mechanism: str = ""
    limit_description: str = ""
    limit_where: str = ""
    limit_notes: list[str] = field(default_factory=list)
    oom_kills: int = 0
    restarts: int = 0
    duration_s: float = 0.0
    interrupted: bool = False
    started: bool = False  # the target's first process became healthy
    error: str | None = None
    web_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "limit_mechanism": self.limit_mechanism,
            "limit_description": self.limit_description,
            "limit_where": self.limit_where,
            "limit_notes": self.limit_notes,
            "events": self.events,
            "load": asdict(self.load) if self.load else None,
            "alloc": self.alloc,
            "duration_s": round(self.duration_s, 2),
            "interrupted": self.interrupted,
            "error": self.error,
        }
