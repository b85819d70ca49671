"""``/debug/*``: where the memory is, from tracemalloc (the Python answer to DevTools' allocation view).

Only mounted when ``LEAKLAB_DEBUG=1`` (implied by ``LEAKLAB_TRACEMALLOC=1``). Never expose these
endpoints publicly: they reveal source paths and lines, and a snapshot costs CPU and memory.
"""

from __future__ import annotations

import linecache
import sys
import sysconfig
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

from .responses import error_response
from .settings import Settings

TOP_SITES_METRIC = 10  # label values exported to Prometheus: a bounded set
METRICS_MAX_AGE_S = 4.0  # a scrape reuses sites computed this recently (a snapshot costs ~0.1-0.5 s)
HOW_TO_START = (
    "tracemalloc is off: start it with POST /debug/memory/start, or restart the API with "
    "LEAKLAB_TRACEMALLOC=1 (leaklab api --tracemalloc)"
)
# tracemalloc's, linecache's and our own bookkeeping (the baseline is a dict this module builds)
_IGNORED_FILES = frozenset({tracemalloc.__file__, linecache.__file__, __file__, "<unknown>"})

Sizes = dict[tuple[str, int], tuple[int, int]]  # (file, line) -> (bytes, blocks)


@dataclass(frozen=True, slots=True)
class Site:
    """One allocation site: a source line and the memory allocated there that is still alive."""

    site: str
    line: str
    bytes: int
    count: int
    growth_bytes: int
    share: float


class AllocationTracker:
    """Compares tracemalloc snapshots with a baseline and names the lines that grew."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self._baseline: Sizes | None = None
        self._lock = threading.Lock()
        self._roots = _path_roots()
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
            self._cached = (0.0, 0, [])

    def set_baseline(self) -> None:
        with self._lock:
            self._baseline = _sizes_by_line()
            self._cached = (0.0, 0, [])

    def top_sites(self, limit: int) -> tuple[int, list[Site]]:
        """Traced bytes now and the ``limit`` sites that grew most since the baseline."""
        with self._lock:
            if self._baseline is None:
                self._baseline = _sizes_by_line()
            baseline = self._baseline
            now = _sizes_by_line()
        growth = {key: size - baseline.get(key, (0, 0))[0] for key, (size, _) in now.items()}
        growth_total = sum(g for g in growth.values() if g > 0)
        sites = []
        for key in sorted(growth, key=growth.__getitem__, reverse=True)[:limit]:
            filename, lineno = key
            size, count = now[key]
            sites.append(
                Site(
                    site=f"{self._relative(filename)}:{lineno}",
                    line=linecache.getline(filename, lineno).strip(),
                    bytes=size,
                    count=count,
                    growth_bytes=growth[key],
                    share=round(growth[key] / growth_total, 6) if growth_total and growth[key] > 0 else 0.0,
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

    def _relative(self, filename: str) -> str:
        path = Path(filename)
        for root, prefix in self._roots:
            if path.is_relative_to(root):
                return prefix + path.relative_to(root).as_posix()
        return filename


def _sizes_by_line() -> Sizes:
    """Live traced memory grouped by the allocating line (tracemalloc's own grouping, done once)."""
    sizes: Sizes = {}
    for stat in tracemalloc.take_snapshot().statistics("lineno"):
        frame = stat.traceback[0]
        if frame.filename not in _IGNORED_FILES and not frame.filename.startswith("<frozen importlib"):
            sizes[(frame.filename, frame.lineno)] = (stat.size, stat.count)
    return sizes


def _path_roots() -> list[tuple[Path, str]]:
    """Project-relative paths for our code, ``site-packages/`` and ``stdlib/`` for the rest."""
    package_dir = Path(__file__).resolve().parent
    project = next((p for p in package_dir.parents if (p / "pyproject.toml").exists()), package_dir.parent)
    roots = []  # most specific first: a virtualenv often lives inside the project
    for key, prefix in (("purelib", "site-packages/"), ("platlib", "site-packages/"), ("stdlib", "stdlib/")):
        roots.append((Path(sysconfig.get_paths()[key]), prefix))
    roots += [(project, ""), (Path(sys.prefix), "python/")]
    return roots


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
        traced, sites = self.tracker.recent_top_sites()
        yield GaugeMetricFamily("leaklab_tracemalloc_traced_bytes", "Memory tracemalloc traces now.", value=traced)
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
            return JSONResponse({"tracing": False, "message": HOW_TO_START, "traced_bytes": 0, "sites": []})
        traced, sites = tracker.top_sites(limit)
        return JSONResponse({"tracing": True, "traced_bytes": traced, "sites": [asdict(s) for s in sites]})

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


def enable_debug(settings: Settings, registry: CollectorRegistry) -> tuple[APIRouter, AllocationTracker]:
    """The router and tracker for ``/debug``; starts tracing now when ``LEAKLAB_TRACEMALLOC`` is set."""
    tracker = AllocationTracker(settings.tracemalloc_frames)
    if settings.tracemalloc:
        tracker.start()
    registry.register(AllocationCollector(tracker))
    return debug_router(tracker), tracker
