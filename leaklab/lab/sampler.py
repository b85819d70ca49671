"""One sample a second: the API's memory and cache state, Redis ``INFO``, and Locust's request rate.

Memory comes from the operating system (``/proc/PID/statm``, the cgroup's own files), so it is read
even while the API is busy, tracing allocations or being restarted; cache state and the number of
series the page exposes (Prometheus' ``scrape_samples_scraped``) come from ``/metrics``. A page grown
by a label leak takes the API long to render, so it is read less often then (``SCRAPE_BUDGET``), like
Prometheus' scrape interval, rather than keeping the API busy rendering it every second.
A target without the lab's ``/metrics`` (the user's app, a ``--cmd``) is sampled from the OS alone.
A sample that cannot reach something leaves those fields empty instead of failing the run.
"""

from __future__ import annotations

import bisect
import contextlib
import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from ..procs import http_get, rss_bytes
from ..scrape import Samples, parse_metrics
from .limits import MemoryLimit
from .load import Locust

COUNTERS = ("hits", "misses", "evictions", "errors")
READ = ("leaklab_cache_", "leaklab_cgroup_", "process_resident_memory_bytes")  # the families a sample reads
SCRAPE_TIMEOUT_S = 3.0
SCRAPE_BUDGET = 0.5  # part of the time the API spends rendering our scrapes, at most
MAX_SCRAPE_GAP_S = 3.0


@dataclass(slots=True)
class Sample:
    """One row of ``samples.csv``; empty (None) where the source could not be read at that moment."""

    mode: str
    t_s: float
    timestamp: float
    api_pid: int | None = None
    api_up: int = 0
    rss_bytes: int | None = None
    cgroup_bytes: int | None = None
    limit_bytes: int = 0
    oom_kills: int = 0
    restarts: int = 0
    cache_entries: float | None = None
    cache_bytes: float | None = None
    hits_total: float | None = None
    misses_total: float | None = None
    evictions_total: float | None = None
    errors_total: float | None = None
    api_cgroup_bytes: float | None = None
    api_cgroup_limit_bytes: float | None = None
    users: int | None = None
    rps: float | None = None
    fail_per_s: float | None = None
    requests_total: int | None = None
    failures_total: int | None = None
    redis_used_memory: int | None = None
    redis_maxmemory: int | None = None
    redis_evicted_keys: int | None = None
    tracing: int = 0
    cache_limit_entries: float | None = None  # 0 = unbounded
    metric_series: int | None = None  # samples on the /metrics page (Prometheus' scrape_samples_scraped)
    scraped: int = 0  # 1: /metrics was asked this second (answered or not); 0: not asked (tracing, or a slow page)


COLUMNS = [f.name for f in fields(Sample)]


class CounterTotals:
    """Counters that survive restarts: a new process (another PID, or a counter that went down) starts from zero,
    so what the old one had counted is carried over, even when the new one has already counted as much."""

    def __init__(self) -> None:
        self.base: dict[str, float] = dict.fromkeys(COUNTERS, 0.0)
        self.last: dict[str, float] = dict.fromkeys(COUNTERS, 0.0)
        self.pid: dict[str, int | None] = dict.fromkeys(COUNTERS)

    def update(self, name: str, value: float, pid: int | None = None) -> float:
        new_process = pid is not None and self.pid[name] is not None and pid != self.pid[name]
        if new_process or value < self.last[name]:
            self.base[name] += self.last[name]
        self.last[name], self.pid[name] = value, pid if pid is not None else self.pid[name]
        return self.base[name] + value


class Sampler:
    """Takes samples of one mode's run; ``take()`` never raises for an unreachable API or Redis."""

    def __init__(
        self,
        mode: str,
        limit: MemoryLimit,
        redis_port: int | None = None,
        rss: Callable[[int], int | None] = rss_bytes,
    ) -> None:
        """``rss(pid)`` reads the memory judged: the process's own, or (``--cmd``) its process tree's."""
        self.mode = mode
        self.rss = rss
        self.limit = limit
        self.redis_port = redis_port
        self.totals = CounterTotals()
        self._redis: Any = None
        self._next_scrape = 0.0
        if redis_port is not None:
            import redis

            self._redis = redis.Redis(host="127.0.0.1", port=redis_port, socket_timeout=0.5)

    def take(
        self,
        t_s: float,
        api_pid: int | None,
        api_port: int | None,
        locust: Locust | None,
        *,
        oom_kills: int,
        restarts: int,
        scrape_metrics: bool = True,
        tracing: bool = False,
    ) -> Sample:
        s = Sample(self.mode, round(t_s, 3), time.time(), api_pid, limit_bytes=self.limit.limit_bytes)
        s.oom_kills, s.restarts, s.tracing = oom_kills, restarts, int(tracing)
        s.rss_bytes = self.rss(api_pid) if api_pid else None
        s.cgroup_bytes = self.limit.usage_bytes()
        if api_pid and api_port is not None and scrape_metrics and time.monotonic() >= self._next_scrape:
            self._scrape(s, api_port)
        elif s.rss_bytes is not None:
            s.api_up = 1  # alive (not scraped while tracemalloc records: a snapshot per scrape is costly)
        if locust is not None and (live := locust.live()) is not None:
            s.users, s.rps, s.fail_per_s = live.users, live.rps, live.fail_per_s
            s.requests_total, s.failures_total = live.requests, live.failures
        if self._redis is not None:
            with contextlib.suppress(Exception):  # redis-py raises its own hierarchy; any failure = no data
                info = self._redis.info()
                s.redis_used_memory = int(info["used_memory"])
                s.redis_maxmemory = int(info["maxmemory"])
                s.redis_evicted_keys = int(info["evicted_keys"])
        return s

    def _scrape(self, s: Sample, api_port: int) -> None:
        started = time.monotonic()
        s.scraped = 1
        with contextlib.suppress(OSError, http.client.HTTPException, RuntimeError, ValueError):
            status, _, body = http_get(api_port, "/metrics", SCRAPE_TIMEOUT_S)
            if status != 200:
                raise RuntimeError(f"/metrics answered {status}")
            lines = body.decode().splitlines()
            s.metric_series = sum(1 for line in lines if line and not line.startswith("#"))
            # parsing a page of 30,000 series takes seconds: parse only the families a sample reads
            self._from_metrics(s, parse_metrics("\n".join(line for line in lines if _read(line))))
        took = time.monotonic() - started
        self._next_scrape = started + min(took / SCRAPE_BUDGET, MAX_SCRAPE_GAP_S)

    def _from_metrics(self, s: Sample, m: Samples) -> None:
        s.api_up = 1
        s.cache_entries = m.value("leaklab_cache_entries", 0.0)
        s.cache_bytes = m.value("leaklab_cache_bytes", 0.0)
        s.cache_limit_entries = m.get("leaklab_cache_limit_entries")
        s.hits_total = self.totals.update("hits", m.value("leaklab_cache_hits_total", 0.0), s.api_pid)
        s.misses_total = self.totals.update("misses", m.value("leaklab_cache_misses_total", 0.0), s.api_pid)
        s.evictions_total = self.totals.update("evictions", m.value("leaklab_cache_evictions_total", 0.0), s.api_pid)
        s.errors_total = self.totals.update("errors", m.value("leaklab_cache_errors_total", 0.0), s.api_pid)
        s.api_cgroup_bytes = m.get("leaklab_cgroup_memory_bytes")
        s.api_cgroup_limit_bytes = m.get("leaklab_cgroup_memory_limit_bytes")
        if s.rss_bytes is None:
            s.rss_bytes = int(m.value("process_resident_memory_bytes", 0.0)) or None

    def close(self) -> None:
        if self._redis is not None:
            with contextlib.suppress(Exception):
                self._redis.close()


def _read(line: str) -> bool:
    """A sample, ``# HELP`` or ``# TYPE`` line of a family the sampler reads."""
    name = line.split(" ", 3)[2] if line.startswith("#") and line.count(" ") >= 2 else line
    return name.startswith(READ)


def backfill_load(samples: list[Sample], history: list[tuple[float, int, int, int]]) -> None:
    """Replace the live (lagging) Locust figures with ones interpolated from its per-second history.

    Locust writes its history a second or two late and its own requests/s is a moving average, so the
    rates are recomputed from the cumulative counts at each sample's wall-clock time.
    """
    if len(history) < 2:
        return
    times = [h[0] + 0.5 for h in history]  # Locust stamps each row with the whole second it was written in

    def at(ts: float, index: int) -> float:
        i = bisect.bisect_right(times, ts)
        if i == 0:
            return 0.0
        if i >= len(history):
            return float(history[-1][index])
        a, b = history[i - 1][index], history[i][index]
        share = min(1.0, max(0.0, (ts - times[i - 1]) / (times[i] - times[i - 1])))  # on the same clock as the search
        return a + (b - a) * share

    previous: tuple[float, float, float] | None = None
    for s in samples:
        requests, failures = at(s.timestamp, 1), at(s.timestamp, 2)
        s.requests_total, s.failures_total = round(requests), round(failures)
        s.users = round(at(s.timestamp, 3))
        if previous is not None and s.timestamp > previous[0]:
            dt = s.timestamp - previous[0]
            s.rps = round(max(0.0, requests - previous[1]) / dt, 2)
            s.fail_per_s = round(max(0.0, failures - previous[2]) / dt, 2)
        else:
            s.rps, s.fail_per_s = 0.0, 0.0
        previous = (s.timestamp, requests, failures)


def load_seen(s: Sample) -> bool:
    """Requests have arrived: Locust counted requests, or the API counted cache lookups."""
    return bool(s.requests_total or (s.hits_total or 0) + (s.misses_total or 0) > 0)
