"""Redis faults under load, against a real ``redis-server`` and a real API process.

Expected outcome for every fault: every request is still answered 200 with the full payload (from
Redis, or from the origin with ``X-Cache: bypass``), ``/readyz`` says 503 exactly while Redis cannot
answer, and caching resumes by itself afterwards (a key misses once, then hits). The plain outage
(SIGTERM, Redis back on the same port) is in ``tests/api/test_redis.py``.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from leaklab.procs import ApiServer, RedisServer

from ..api.helpers import Client
from ..conftest import ApiFactory
from ..load import BackgroundLoad

BODY_BYTES = 70_010
MB = 1024 * 1024


def wait_until(condition: Callable[[], bool], timeout_s: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {timeout_s}s")


@pytest.fixture
def api(redis_server: RedisServer, start_api: ApiFactory) -> ApiServer:
    return start_api(
        "redis", "--redis-url", redis_server.url, "--origin-latency-ms", "0",
        env={"LEAKLAB_REDIS_TIMEOUT_MS": "100", "LEAKLAB_REDIS_RETRY_INTERVAL_S": "0.2"},
    )  # fmt: skip


@pytest.fixture
def load(api: ApiServer) -> Iterator[BackgroundLoad]:
    running = BackgroundLoad(api.port)
    running.wait_for(50)
    yield running
    running.stop()


def ready(client: Client) -> int:
    return client.get("/readyz")[0]


def caching_resumes(client: Client, key: str) -> None:
    """A fresh key misses once (stored in Redis), then hits: Redis is in use again."""
    wait_until(lambda: client.get(f"/data?key={key}")[1]["x-cache"] == "hit", what=f"a hit on {key}")
    status, headers, body = client.get(f"/data?key={key}")
    assert (status, headers["x-cache"], len(body)) == (200, "hit", BODY_BYTES)


def answered_in_full(load: BackgroundLoad) -> None:
    outcomes = load.stop()
    assert outcomes, "no load ran"
    failed = load.failed()
    assert not failed, f"{len(failed)} of {len(outcomes)} requests failed, first: {failed[0]}"
    short = [o for o in outcomes if o.body_bytes != BODY_BYTES]
    assert not short, f"{len(short)} answers were not the payload, first: {short[0]}"


@pytest.mark.slow
def test_redis_killed_with_sigkill_then_restarted(
    api: ApiServer, redis_server: RedisServer, load: BackgroundLoad, tmp_path: Path
) -> None:
    client = Client(api.port)
    os.kill(redis_server.pid, signal.SIGKILL)
    redis_server.stop()
    wait_until(lambda: ready(client) == 503, what="/readyz 503")
    load.wait_for(200)
    assert any(o.cache == "bypass" for o in load.outcomes[-100:])
    revived = RedisServer(tmp_path, maxmemory="16mb", port=redis_server.port)
    try:
        wait_until(lambda: ready(client) == 200, what="/readyz 200 after the restart")
        caching_resumes(client, "after-restart")
        answered_in_full(load)
    finally:
        revived.stop()


@pytest.mark.slow
def test_redis_hung_with_sigstop_then_continued(
    api: ApiServer, redis_server: RedisServer, load: BackgroundLoad
) -> None:
    client = Client(api.port)
    os.kill(redis_server.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: ready(client) == 503, what="/readyz 503 while Redis is hung")
        load.wait_for(200)  # a hung Redis costs one 100 ms timeout per retry interval, not per request
        assert any(o.cache == "bypass" for o in load.outcomes[-100:])
    finally:
        os.kill(redis_server.pid, signal.SIGCONT)
    wait_until(lambda: ready(client) == 200, what="/readyz 200 once Redis runs again")
    caching_resumes(client, "after-sigcont")
    load.wait_for(200)  # replies that were late when Redis stopped must not answer later requests
    answered_in_full(load)


@pytest.mark.slow
def test_flushall_under_load_only_costs_misses(api: ApiServer, redis_server: RedisServer, load: BackgroundLoad) -> None:
    r = redis.Redis(port=redis_server.port)
    for _ in range(5):
        r.flushall()
        load.wait_for(30)
    assert r.dbsize() > 0  # the load filled it again
    client = Client(api.port)
    assert ready(client) == 200
    caching_resumes(client, "after-flush")
    answered_in_full(load)
    assert Client(api.port).get("/metrics")[2].count(b"leaklab_cache_errors_total 0.0") == 1


@pytest.mark.slow
def test_maxmemory_lowered_at_run_time_is_obeyed(api: ApiServer, redis_server: RedisServer) -> None:
    """Expected: Redis evicts down to the new bound while the load keeps writing, every request is
    still answered in full, and once the load is over the cache serves hits within the new bound.

    3 MB holds about 20 payloads, and the load writes that many fresh keys in a few milliseconds:
    while it runs, any key (ours too) is evicted before it is asked for again, which is what a cache
    far smaller than its working set does, not a fault. So the hit is asked for after the load."""
    r = redis.Redis(port=redis_server.port)
    load = BackgroundLoad(api.port, key_space=5000)
    try:
        wait_until(lambda: int(r.info("memory")["used_memory"]) > 8 * MB, what="Redis filled to 8 MB")
        evicted_before = int(r.info("stats")["evicted_keys"])
        r.config_set("maxmemory", "3mb")
        load.wait_for(200)  # every write makes Redis evict down to the new bound
        peak_after = 0
        for _ in range(20):
            load.wait_for(10)
            peak_after = max(peak_after, int(r.info("memory")["used_memory"]))
        assert peak_after <= 3 * MB + 2 * BODY_BYTES, f"used_memory {peak_after} over the lowered maxmemory"
        evicted = int(r.info("stats")["evicted_keys"]) - evicted_before
        assert evicted > 0, "Redis evicted no key to reach the lowered maxmemory"
    finally:
        load.stop()
    answered_in_full(load)
    hits_before = int(r.info("stats")["keyspace_hits"])
    caching_resumes(Client(api.port), "after-lowering")
    assert int(r.info("stats")["keyspace_hits"]) > hits_before, "X-Cache said hit, but Redis counted no hit"
    assert int(r.info("memory")["used_memory"]) <= 3 * MB + 2 * BODY_BYTES


@pytest.mark.slow
def test_client_kill_of_the_apis_connections(api: ApiServer, redis_server: RedisServer, load: BackgroundLoad) -> None:
    r = redis.Redis(port=redis_server.port)
    killed, rounds = 0, 0
    while killed < 5 and rounds < 50:  # after a kill the API reconnects once its retry interval is over
        killed += int(r.execute_command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
        rounds += 1
        load.wait_for(30)
    assert killed >= 5, f"only {killed} of the API's connections to kill in {rounds} rounds"
    client = Client(api.port)
    wait_until(lambda: ready(client) == 200, what="/readyz 200")
    caching_resumes(client, "after-client-kill")
    answered_in_full(load)
