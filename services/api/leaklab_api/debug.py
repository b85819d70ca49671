"""``/debug/*``: where the memory is, from tracemalloc (the Python answer to DevTools' allocation view).

Only mounted when ``LEAKLAB_DEBUG=1`` (implied by ``LEAKLAB_TRACEMALLOC=1``). Never expose these
endpoints publicly: they reveal source paths and lines, and a snapshot costs CPU and memory.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .cgroup import MemoryCgroup
from .responses import error_response
from .settings import Settings
from .tracking import AllocationTracker

HOW_TO_START = (
    "tracemalloc is off: start it with POST /debug/memory/start, or restart the API with "
    "LEAKLAB_TRACEMALLOC=1 (leaklab api --tracemalloc)"
)


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
        return JSONResponse(tracker.report(limit))

    @router.post(
        "/memory/baseline",
        summary="Measure growth from now on",
        responses=error_response(409, "tracemalloc is off: there is nothing to measure from"),
    )
    def baseline() -> JSONResponse:
        if not tracker.tracing:
            body = {"error": HOW_TO_START, "tracing": False, "message": HOW_TO_START}
            return JSONResponse(body, status_code=409)
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
    tracker = AllocationTracker(settings.tracemalloc_frames, cgroup, ignored=frozenset({__file__}))
    if settings.tracemalloc:
        tracker.start()
    registry.register(AllocationCollector(tracker))
    return debug_router(tracker), tracker
