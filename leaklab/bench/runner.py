"""One benchmark round of one contestant: start it fresh, measure memory, ``/metrics`` and a timed load.

Per contestant and round: start it on a free loopback port, send a fixed count of requests (memory
columns: RSS before and after, so growth divides by a known count), time ``/metrics`` scrapes (API
modes), then a timed load run (requests/s, p50/p99, server CPU per request, RSS at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import threading
import time
from pathlib import Path
from typing import cast

from leaklab.procs import ChildDied, http_get
from leaklab.scrape import Samples, parse_metrics

from . import load
from .results import RoundResult
from .servers import Running, Spec, cpu_seconds, rss_bytes_of, start


def run_one(spec: Spec, round_no: int, args: argparse.Namespace, tool: str, log_dir: Path) -> RoundResult:
    running = start(spec, log_dir, redis_maxmemory=args.redis_maxmemory, payload_items=args.payload_items)
    sampler = _RedisSampler(running) if running.redis is not None else None
    try:
        rss_start = rss_bytes_of(running)
        ok, count_errors, _ = load.fixed_count(running.url, requests=args.requests, connections=args.connections)
        rss_after = rss_bytes_of(running)
        scrape_ms, scrape_max_ms, entries = _time_scrapes(running) if spec.kind == "api" else (None, None, None)
        cpu_before = cpu_seconds(running.pid)
        timed = load.timed(
            tool,
            running.url,
            seconds=args.duration,
            connections=args.connections,
            threads=args.threads,
            log=log_dir / f"load-{spec.name}-r{round_no + 1}.txt",
        )
        cpu_used = cpu_seconds(running.pid) - cpu_before
        rss_end = rss_bytes_of(running)
        if not running.child.alive():
            raise running.child.died()
        cache_errors = _scrape(running).value("leaklab_cache_errors_total", 0.0) if spec.kind == "api" else None
    finally:
        if sampler is not None:
            sampler.stop()
        running.stop()
    result = RoundResult(
        server=spec.name,
        round=round_no + 1,
        rps=timed.rps,
        p50_ms=timed.p50_ms,
        p99_ms=timed.p99_ms,
        requests=timed.requests,
        errors=timed.errors,
        cpu_ms_per_request=1000 * cpu_used / max(timed.requests, 1),
        rss_start_bytes=rss_start,
        rss_after_count_bytes=rss_after,
        rss_end_bytes=rss_end,
        count_requests=ok,
        count_errors=count_errors,
        leaked_bytes_per_request=(rss_after - rss_start) / max(ok, 1),
        metrics_scrape_ms=scrape_ms,
        metrics_scrape_max_ms=scrape_max_ms,
        cache_entries=entries,
        cache_errors=cache_errors,
    )
    if sampler is not None:
        result.redis_maxmemory_bytes = sampler.maxmemory
        result.redis_max_used_memory_bytes = sampler.max_used
        result.redis_entry_bytes = sampler.entry_bytes
    return result


def _time_scrapes(running: Running, scrapes: int = 20) -> tuple[float, float, float | None]:
    """Median and worst time of a ``/metrics`` scrape, and the cache entries it reports."""
    times = []
    body = b""
    for _ in range(scrapes):
        began = time.perf_counter()
        body = _get_metrics(running)
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times), max(times), parse_metrics(body.decode()).value("leaklab_cache_entries", 0.0)


def _scrape(running: Running) -> Samples:
    return parse_metrics(_get_metrics(running).decode())


def _get_metrics(running: Running) -> bytes:
    status, _, body = http_get(running.port, "/metrics", 10.0)
    if status != 200:
        raise ChildDied(f"{running.spec.name}: /metrics answered {status}")
    return body


class _RedisSampler:
    """Polls redis-server's ``used_memory`` while a redis-mode API runs; keeps the peak."""

    def __init__(self, running: Running, interval_s: float = 0.05) -> None:
        import redis

        assert running.redis is not None
        self._client = redis.Redis.from_url(running.redis.url, socket_timeout=2)
        self.maxmemory = int(cast(dict[str, str], self._client.config_get("maxmemory"))["maxmemory"])
        self.max_used = 0
        self.entry_bytes: int | None = None
        self._interval_s = interval_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            self._sample()
            self._done.wait(self._interval_s)

    def _sample(self) -> None:
        with contextlib.suppress(Exception):
            used = int(self._client.info("memory")["used_memory"])
            self.max_used = max(self.max_used, used)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._sample()
        with contextlib.suppress(Exception):
            key = cast(bytes | None, self._client.randomkey())
            if key is not None:
                self.entry_bytes = int(self._client.memory_usage(key) or 0)
        self._client.close()
