"""``/debug/*``: where the memory is, from tracemalloc (the Python answer to DevTools' allocation view).

Only mounted when ``LEAKLAB_DEBUG=1`` (implied by ``LEAKLAB_TRACEMALLOC=1``). Never expose these
endpoints publicly: they reveal source paths and lines, and a snapshot costs CPU and memory.
"""

from __future__ import annotations

import linecache
import os
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from . import allocations
from .allocations import SiteNamer, Sizes
from .cgroup import MemoryCgroup
from .settings import Settings

TOP_SITES_METRIC = 10  # label values exported to Prometheus: a bounded set
METRICS_MAX_AGE_S = 4.0  # a scrape reuses sites computed this recently (a snapshot costs ~0.1-0.5 s)
HOW_TO_START = (
    "tracemalloc is off: start it with POST /debug/memory/start, or restart the API with "
    "LEAKLAB_TRACEMALLOC=1 (leaklab api --tracemalloc)"
)
# tracemalloc's, linecache's and our own bookkeeping (the baseline is a dict allocations.py builds)
_IGNORED_FILES = frozenset({tracemalloc.__file__, linecache.__file__, __file__, allocations.__file__, "<unknown>"})


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

    @classmethod
    def now(cls, cgroup: MemoryCgroup | None) -> Footprint:
        memory = cgroup.read() if cgroup else None
        return cls(
            tracemalloc.get_traced_memory()[0] if tracemalloc.is_tracing() else 0,
            _rss_bytes(),
            memory.usage_bytes if memory else None,
        )


def _rss_bytes() -> int | None:
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


class AllocationTracker:
    """Compares tracemalloc snapshots with a baseline and names the lines that grew."""

    def __init__(self, frames: int, cgroup: MemoryCgroup | None = None) -> None:
        self.frames = frames
        self.cgroup = cgroup
        self._baseline: Sizes | None = None
        self._baseline_footprint: Footprint | None = None
        self._lock = threading.Lock()
        self._namer = SiteNamer(_IGNORED_FILES)
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
        that traced memory does not follow is native memory, which tracemalloc cannot see.
        """
        now = Footprint.now(self.cgroup)
        base = self._baseline_footprint
        result: dict[str, int | None] = asdict(now)
        for field in ("traced_bytes", "rss_bytes", "cgroup_memory_bytes"):
            before, after = getattr(base, field, None), getattr(now, field)
            grown = after - before if before is not None and after is not None else None
            result[field.replace("_bytes", "_growth_bytes")] = grown
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

    def recent_top_sites(self, max_age_s: float = METRICS_MAX_AGE_S) -> tuple[int, list[Site]]:
        """``top_sites`` for the metrics, recomputed only when older than ``max_age_s``."""
        computed_at, traced, sites = self._cached
        if time.monotonic() - computed_at > max_age_s and self.tracing:
            traced, sites = self.top_sites(TOP_SITES_METRIC)
            self._cached = (time.monotonic(), traced, sites)
        return traced, sites


class AllocationCollector(Collector):
    """The top allocation sites as gauges (top 10 only, so the label set stays bounded).

    Reads the tracker's recent result; ``/metrics`` refreshes it off the event loop first.
    """

    def __init__(self, tracker: AllocationTracker) -> None:
        self.tracker = tracker

    def collect(self) -> Iterator[Metric]:
        tracing = GaugeMetricFamily("leaklab_tracemalloc_tracing", "1 while tracemalloc traces allocations.")
        tracing.add_metric([], 1 if self.tracker.tracing else 0)
        yield tracing
        if not self.tracker.tracing:
            return
        # read at scrape time (cheap), so "RSS grows but traced memory does not" shows at every scrape
        yield GaugeMetricFamily(
            "leaklab_tracemalloc_traced_bytes",
            "Memory Python's allocator traces now (tracemalloc); RSS growth it does not follow is native memory.",
            value=tracemalloc.get_traced_memory()[0],
        )
        _, sites = self.tracker.recent_top_sites()
        growth = GaugeMetricFamily(
            "leaklab_alloc_site_growth_bytes",
            "Growth since the baseline of the top allocation sites (top 10 by growth).",
            labels=["rank", "site", "line"],
        )
        share = GaugeMetricFamily(
            "leaklab_alloc_site_share",
            "The site's part of all growth since the baseline, 0 to 1 (top 10 by growth).",
            labels=["rank", "site", "line"],
        )
        for rank, site in enumerate(sites, start=1):
            labels = [str(rank), site.site, site.line[:120]]
            growth.add_metric(labels, site.growth_bytes)
            share.add_metric(labels, site.share)
        yield growth
        yield share


def debug_router(tracker: AllocationTracker) -> APIRouter:
    """The ``/debug`` endpoints (sync handlers: snapshots run in the thread pool, not on the event loop)."""
    router = APIRouter(prefix="/debug", tags=["debug"])

    @router.get("/memory", summary="Top allocation sites by growth since the baseline")
    def memory(limit: Annotated[int, Query(ge=1, le=100)] = 10) -> JSONResponse:
        if not tracker.tracing:
            return JSONResponse(
                {"tracing": False, "message": HOW_TO_START, "traced_bytes": 0, "sites": [], **tracker.footprint()}
            )
        _, sites = tracker.top_sites(limit)
        return JSONResponse({"tracing": True, **tracker.footprint(), "sites": [asdict(s) for s in sites]})

    @router.post("/memory/baseline", summary="Measure growth from now on")
    def baseline() -> JSONResponse:
        if not tracker.tracing:
            return JSONResponse({"tracing": False, "message": HOW_TO_START}, status_code=409)
        tracker.set_baseline()
        return JSONResponse({"tracing": True, "baseline": "set"})

    @router.post("/memory/start", summary="Start tracemalloc now (baseline = now)")
    def start() -> JSONResponse:
        tracker.start()
        return JSONResponse({"tracing": True, "baseline": "set"})

    @router.post("/memory/stop", summary="Stop tracemalloc and free its memory")
    def stop() -> JSONResponse:
        tracker.stop()
        return JSONResponse({"tracing": False})

    return router


def enable_debug(
    settings: Settings, registry: CollectorRegistry, cgroup: MemoryCgroup | None = None
) -> tuple[APIRouter, AllocationTracker]:
    """The router and tracker for ``/debug``; starts tracing now when ``LEAKLAB_TRACEMALLOC`` is set."""
    tracker = AllocationTracker(settings.tracemalloc_frames, cgroup)
    if settings.tracemalloc:
        tracker.start()
    registry.register(AllocationCollector(tracker))
    return debug_router(tracker), tracker
