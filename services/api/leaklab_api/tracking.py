"""Where the memory is, from tracemalloc: allocation sites compared with a baseline, and who can see what.

Standard library only, like ``allocations``: the API's ``/debug/memory`` endpoints serve it, and
``leaklab run --app`` loads it into the user's own Python, beside their app, to answer the same questions
(``leaklab/lab/app/launcher``).
"""

from __future__ import annotations

import linecache
import os
import threading
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import allocations
from .allocations import SiteNamer, Sizes
from .cgroup import MemoryCgroup

TOP_SITES_METRIC = 10  # label values exported to Prometheus: a bounded set
METRICS_MAX_AGE_S = 4.0  # a scrape reuses sites computed this recently (a snapshot costs ~0.1-0.5 s)
# tracemalloc's, linecache's and our own bookkeeping (the baseline is a dict allocations.py builds)
IGNORED_FILES = frozenset({tracemalloc.__file__, linecache.__file__, __file__, allocations.__file__, "<unknown>"})


@dataclass(frozen=True, slots=True)
class Site:
    """One allocation site: a source line and the memory allocated there that is still alive."""

    site: str
    line: str
    bytes: int
    count: int
    growth_bytes: int
    share: float
    caller: str | None  # for a site in a library: the first frame in our code that led to it


@dataclass(frozen=True, slots=True)
class Footprint:
    """How much memory there is, by who can see it: traced by Python's allocator, resident, the cgroup's."""

    traced_bytes: int
    rss_bytes: int | None
    cgroup_memory_bytes: int | None
    tracemalloc_bytes: int  # tracemalloc's own bookkeeping, a hundred bytes or so per traced block

    @classmethod
    def now(cls, cgroup: MemoryCgroup | None) -> Footprint:
        memory = cgroup.read() if cgroup else None
        return cls(
            tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0,
            _rss_bytes(),
            memory.usage_bytes if memory else None,
            tracemalloc.get_tracemalloc_memory(),
        )


def _rss_bytes() -> int | None:
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


class AllocationTracker:
    """Compares tracemalloc snapshots with a baseline and names the lines that grew.

    ``project`` is the root whose files are named relative to it (default: this repository);
    ``ignored`` adds the caller's own files to the bookkeeping left out of the sites.
    """

    def __init__(
        self,
        frames: int,
        cgroup: MemoryCgroup | None = None,
        *,
        project: Path | None = None,
        ignored: frozenset[str] = frozenset(),
    ) -> None:
        self.frames = frames
        self.cgroup = cgroup
        self._baseline: Sizes | None = None
        self._baseline_footprint: Footprint | None = None
        self._lock = threading.Lock()
        self._namer = SiteNamer(IGNORED_FILES | ignored, project)
        self._cached: tuple[float, int, list[Site]] = (0.0, 0, [])

    @property
    def tracing(self) -> bool:
        return tracemalloc.is_tracing()

    def start(self) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(self.frames)
            self._baseline = None
        if self._baseline is None:
            self.set_baseline()

    def stop(self) -> None:
        tracemalloc.stop()
        with self._lock:
            self._baseline = None
            self._baseline_footprint = None
            self._cached = (0.0, 0, [])

    def set_baseline(self) -> None:
        with self._lock:
            self._set_baseline()

    def _set_baseline(self) -> None:
        self._baseline = self._namer.snapshot()[0]
        self._baseline_footprint = Footprint.now(self.cgroup)
        self._cached = (0.0, 0, [])

    def footprint(self) -> dict[str, int | None]:
        """Traced, resident and cgroup memory now, and their growth since the baseline.

        Traced growth that explains most of the RSS growth is a leak of Python objects; RSS growth
        that traced memory does not follow is native memory, which tracemalloc cannot see. The RSS
        growth leaves out tracemalloc's own (``tracemalloc_growth_bytes``): with many small objects
        leaking, its bookkeeping grows as fast as they do, and is not the app's.
        """
        now = Footprint.now(self.cgroup)
        base = self._baseline_footprint
        result: dict[str, int | None] = asdict(now)
        for field in ("traced_bytes", "rss_bytes", "cgroup_memory_bytes", "tracemalloc_bytes"):
            before, after = getattr(base, field, None), getattr(now, field)
            grown = after - before if before is not None and after is not None else None
            result[field.replace("_bytes", "_growth_bytes")] = grown
        own, rss = result["tracemalloc_growth_bytes"], result["rss_growth_bytes"]
        if own is not None and rss is not None:
            result["rss_growth_bytes"] = rss - max(0, own)
        return result

    def top_sites(self, limit: int) -> tuple[int, list[Site]]:
        """Traced bytes now and the ``limit`` sites that grew most since the baseline."""
        with self._lock:
            if self._baseline is None:
                self._set_baseline()
            baseline = self._baseline or {}
            now, callers = self._namer.snapshot()
        growth = {key: size - baseline.get(key, (0, 0))[0] for key, (size, _) in now.items()}
        growth_total = sum(g for g in growth.values() if g > 0)
        sites = []
        for key in sorted(growth, key=growth.__getitem__, reverse=True)[:limit]:
            size, count = now[key]
            caller = callers.get(key)
            sites.append(
                Site(
                    site=self._namer.site(key),
                    line=self._namer.source(key),
                    bytes=size,
                    count=count,
                    growth_bytes=growth[key],
                    share=round(growth[key] / growth_total, 6) if growth_total and growth[key] > 0 else 0.0,
                    caller=f"{self._namer.site(caller)} {self._namer.source(caller)}" if caller else None,
                )
            )
        return tracemalloc.get_traced_memory()[0], sites

    def report(self, limit: int) -> dict[str, Any]:
        """What ``GET /debug/memory`` answers while tracing: the footprint and the top ``limit`` sites.

        The footprint is read first: the snapshot behind the sites costs memory of its own (a tuple per
        traced block), which is not the app's growth.
        """
        footprint = self.footprint()
        _, sites = self.top_sites(limit)
        return {"tracing": True, **footprint, "sites": [asdict(s) for s in sites]}

    def recent_top_sites(self, max_age_s: float = METRICS_MAX_AGE_S) -> tuple[int, list[Site]]:
        """``top_sites`` for the metrics, recomputed only when older than ``max_age_s``."""
        computed_at, traced, sites = self._cached
        if time.monotonic() - computed_at > max_age_s and self.tracing:
            traced, sites = self.top_sites(TOP_SITES_METRIC)
            self._cached = (time.monotonic(), traced, sites)
        return traced, sites
