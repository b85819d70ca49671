"""The API's Prometheus metrics; names are part of leaklab's contract (see DESIGN.md).

Counters move on the request path; everything that describes state (cache size, cgroup memory)
is computed at scrape time by ``StateCollector``.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from .cache import CacheStats
from .cgroup import MemoryCgroup

__all__ = ["CacheCounters", "StateCollector", "new_registry"]


def new_registry() -> CollectorRegistry:
    """A registry with prometheus-client's process, platform and gc collectors, as the default has."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


class CacheCounters:
    """Lookups and backend failures, counted on the request path."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.hits = Counter("leaklab_cache_hits", "Cache lookups that found the key.", registry=registry)
        self.misses = Counter("leaklab_cache_misses", "Cache lookups that missed.", registry=registry)
        self.errors = Counter(
            "leaklab_cache_errors",
            "Cache backend failures; the requests were still served from the origin.",
            registry=registry,
        )


class StateCollector(Collector):
    """Gauges computed at scrape time from the last cache stats and the memory cgroup."""

    def __init__(
        self,
        mode: str,
        version: str,
        cgroup: MemoryCgroup | None,
        *,
        scenario: str = "cache",
        fixed: bool | None = False,  # None: hidden (a drill)
    ) -> None:
        self.mode = mode
        self.version = version
        self.scenario = scenario
        self.fixed = fixed
        self.cgroup = cgroup
        self.cache_stats = CacheStats(0, 0, 0, 0, 0)

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "leaklab_info",
            "Which cache mode and leak scenario run (fixed: the scenario's fix is applied).",
            labels=["mode", "version", "scenario", "fixed"],
        )
        fixed = "hidden" if self.fixed is None else str(self.fixed).lower()
        info.add_metric([self.mode, self.version, self.scenario, fixed], 1)
        yield info
        s = self.cache_stats
        yield GaugeMetricFamily(
            "leaklab_cache_entries", "Entries the cache holds (redis: keys in the db).", value=s.entries
        )
        yield GaugeMetricFamily(
            "leaklab_cache_bytes",
            "Bytes the cache holds (in-process: payload bytes; redis: used_memory).",
            value=s.bytes,
        )
        yield GaugeMetricFamily(
            "leaklab_cache_limit_entries", "Entry bound of the cache; 0 = unbounded.", value=s.limit_entries
        )
        yield GaugeMetricFamily(
            "leaklab_cache_limit_bytes", "Byte bound of the cache; 0 = unbounded.", value=s.limit_bytes
        )
        yield CounterMetricFamily(
            "leaklab_cache_evictions", "Entries evicted (lru: own evictions; redis: evicted_keys).", value=s.evictions
        )
        memory = self.cgroup.read() if self.cgroup else None
        if memory is not None:
            yield GaugeMetricFamily(
                "leaklab_cgroup_memory_bytes", "Memory charged to this process's cgroup.", value=memory.usage_bytes
            )
            yield GaugeMetricFamily(
                "leaklab_cgroup_memory_limit_bytes",
                "Memory limit of the cgroup; 0 = unlimited.",
                value=memory.limit_bytes,
            )
            if memory.oom_kills is not None:
                yield CounterMetricFamily(
                    "leaklab_cgroup_oom_kills", "OOM kills the kernel counted in this cgroup.", value=memory.oom_kills
                )
