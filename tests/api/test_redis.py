"""Redis mode against a real ``redis-server``: its bound holds, and an outage never fails a request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from leaklab.procs import RedisServer, free_port
from leaklab.scrape import scrape

from ..conftest import ApiFactory
from .conftest import AppFactory
from .helpers import Client

MAXMEMORY = 16 * 1024 * 1024
BODY_BYTES = 70_010


def _poll(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout_s:g}s for {what}"
        time.sleep(0.05)


@pytest.mark.slow
def test_redis_stays_within_maxmemory_and_evictions_are_reported(
    make_app: AppFactory, redis_client: redis.Redis
) -> None:
    api = make_app("redis")
    assert redis_client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
    peak = 0
    for _ in range(10):  # 10 x 100 x 68 KiB = ~67 MiB written into a 16 MiB Redis
        api.x_cache("/data", 100)
        peak = max(peak, int(redis_client.info("memory")["used_memory"]))
    info = redis_client.info()
    assert peak <= MAXMEMORY + BODY_BYTES * 2, f"used_memory peaked at {peak}"
    assert info["evicted_keys"] > 500
    # every Redis command (INFO included) may evict while used_memory is over the bound
    evicted_before = redis_client.info("stats")["evicted_keys"]
    metrics = api.metrics()
    evicted_after = redis_client.info("stats")["evicted_keys"]
    assert evicted_before <= metrics.value("leaklab_cache_evictions_total") <= evicted_after
    assert metrics.value("leaklab_cache_limit_bytes") == MAXMEMORY
    assert abs(metrics.value("leaklab_cache_entries") - redis_client.dbsize()) <= 2  # same INFO-evicts caveat
    assert 0 < metrics.value("leaklab_cache_bytes") <= MAXMEMORY + BODY_BYTES * 2
    assert metrics.value("leaklab_cache_errors_total") == 0


def test_the_api_sets_no_ttl(make_app: AppFactory, redis_client: redis.Redis) -> None:
    make_app("redis").x_cache("/data?key=ttl-check")
    assert redis_client.ttl("ttl-check") == -1  # key exists, no expiry


def test_outage_serves_every_request_and_recovers_without_restart(
    redis_server: RedisServer, start_api: ApiFactory, tmp_path: Path
) -> None:
    api = start_api(
        "redis",
        "--redis-url",
        redis_server.url,
        "--origin-latency-ms",
        "0",
        env={"LEAKLAB_REDIS_TIMEOUT_MS": "100", "LEAKLAB_REDIS_RETRY_INTERVAL_S": "0.2"},
    )
    client = Client(api.port)
    assert client.hammer(2, "/data?key=warm") == ["miss", "hit"]

    # load from another thread while Redis goes away
    statuses: list[tuple[int, str]] = []
    stop = threading.Event()

    def load() -> None:
        loader = Client(api.port)
        while not stop.is_set():
            status, headers, _ = loader.get("/data")
            statuses.append((status, headers.get("x-cache", "")))

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    _poll(lambda: len(statuses) >= 5, "the loader to get going")
    redis_server.stop()
    _poll(lambda: client.json("GET", "/readyz")[0] == 503, "/readyz to say 503")
    status, body = client.json("GET", "/readyz")
    assert status == 503 and body["status"] == "unavailable"
    during = len(statuses)
    assert client.hammer(5, "/data?key=warm") == ["bypass"] * 5
    stop.set()
    thread.join(5)

    assert all(status == 200 for status, _ in statuses), "a request failed during the outage"
    assert sum(1 for _, cache in statuses[during // 2 :] if cache == "bypass") > 0
    assert scrape(api.port).value("leaklab_cache_errors_total") > 0

    # Redis comes back on the same port: caching resumes by itself
    revived = RedisServer(tmp_path, maxmemory="16mb", port=redis_server.port)
    try:
        deadline = time.monotonic() + 5
        seen = []
        while time.monotonic() < deadline:
            seen = client.hammer(1, "/data?key=after")
            if seen != ["bypass"]:
                break
            time.sleep(0.1)
        assert seen == ["miss"]
        assert client.hammer(1, "/data?key=after") == ["hit"]
        assert client.json("GET", "/readyz")[0] == 200
    finally:
        revived.stop()


def test_unreachable_redis_at_start_up_is_not_fatal(start_api: ApiFactory) -> None:
    api = start_api("redis", "--redis-url", f"redis://127.0.0.1:{free_port()}/0")
    client = Client(api.port)
    assert client.json("GET", "/readyz")[0] == 503
    assert client.hammer(3) == ["bypass"] * 3
