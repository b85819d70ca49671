"""Adversarial traffic against the fixed modes: the bound holds and nothing answers 5xx.

Many distinct keys of the longest allowed length, keys designed to look alike, oversized query
strings, thousands of repeated parameters, huge headers and slow clients holding connections open.
Expected: ``lru`` holds at its bound, Redis at its ``maxmemory``, RSS grows by a bounded amount, and
hostile requests get a 4xx or a closed connection, never a 5xx; meanwhile normal requests are served, and
500 stalled clients cost what RELIABILITY.md says.
``ADVERSARIAL_KEYS`` sets the distinct keys per mode (default 20,000).
"""

from __future__ import annotations

import http.client
import os
import socket
import string
import threading
import time
from pathlib import Path

import pytest
import redis

from leaklab.procs import LOOPBACK, ApiServer, RedisServer
from leaklab.scrape import scrape
from leaklab.units import MIB

from ..api.helpers import Client
from ..conftest import ApiFactory, require_binary

KEYS = int(os.environ.get("ADVERSARIAL_KEYS", "20000"))
KEY_CHARS = string.ascii_letters + string.digits + "_.:-"
BODY_BYTES = 70_010
MAX_RSS_GROWTH_MIB = 25  # after warm-up; a leak of these keys would be ~68 KiB each, i.e. >1 GiB
STALLED = 500
STALLED_KIB_EACH = 16  # measured: ~5 KiB each (RELIABILITY.md); a buffer per stalled client would show here
THREADS = 4


def longest_keys(count: int, offset: int = 0) -> list[str]:
    """``count`` distinct 128-character keys that share a 120-character prefix (only the tail differs)."""
    prefix = (KEY_CHARS * 2)[:120]
    return [f"{prefix}{n + offset:08d}" for n in range(count)]


def lookalike_keys() -> list[str]:
    """Keys a careless cache would confuse: case, separators, and one-character differences at either end."""
    base = "Aa" * 63 + "z:"
    return [base, base.lower(), base.upper()[:127] + ":", base.replace(":", "."), base.replace(":", "-"),
            "a" + base[1:], base[:-1] + "_", base[:-1] + ":"[::-1] + ""]  # fmt: skip


def drive(port: int, keys: list[str]) -> list[int]:
    """Request every key once over ``THREADS`` keep-alive connections; the statuses seen."""
    statuses: list[int] = []

    def run(part: list[str]) -> None:
        client = Client(port, timeout_s=20)
        for key in part:
            statuses.append(client.get(f"/data?key={key}")[0])
        client.close()

    workers = [threading.Thread(target=run, args=(keys[n::THREADS],)) for n in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(300)
    return statuses


def rss_mib(api: ApiServer) -> float:
    return scrape(api.port).value("process_resident_memory_bytes") / MIB


def distinct_keys_stay_bounded(api: ApiServer, redis_client: redis.Redis | None = None) -> dict[str, float]:
    warm = longest_keys(2000)
    assert set(drive(api.port, warm)) == {200}
    start = rss_mib(api)
    peak_used = 0
    statuses: list[int] = []
    for n in range(2000, KEYS, 2000):
        statuses += drive(api.port, longest_keys(2000, offset=n))
        if redis_client is not None:
            peak_used = max(peak_used, int(redis_client.info("memory")["used_memory"]))
    end = rss_mib(api)
    assert set(statuses) == {200}
    assert end - start <= MAX_RSS_GROWTH_MIB, f"RSS grew {end - start:.1f} MiB over {KEYS:,} distinct keys"
    return {"rss_start_mb": start, "rss_end_mb": end, "redis_used_peak": peak_used}


@pytest.mark.slow
def test_lru_holds_its_bound_over_many_distinct_longest_keys(start_api: ApiFactory) -> None:
    api = start_api("lru", "--origin-latency-ms", "0")
    distinct_keys_stay_bounded(api)
    metrics = scrape(api.port)
    assert metrics.value("leaklab_cache_entries") == metrics.value("leaklab_cache_limit_entries") == 50
    assert metrics.value("leaklab_cache_evictions_total") >= KEYS - 50


@pytest.mark.slow
def test_redis_holds_maxmemory_over_many_distinct_longest_keys(
    start_api: ApiFactory, redis_server: RedisServer
) -> None:
    api = start_api("redis", "--redis-url", redis_server.url, "--origin-latency-ms", "0")
    r = redis.Redis(port=redis_server.port)
    figures = distinct_keys_stay_bounded(api, r)
    maxmemory = int(r.config_get("maxmemory")["maxmemory"])
    assert figures["redis_used_peak"] <= maxmemory + 2 * BODY_BYTES
    assert scrape(api.port).value("leaklab_cache_errors_total") == 0


@pytest.mark.parametrize("mode", ["lru", "redis"])
def test_lookalike_keys_are_never_confused(mode: str, start_api: ApiFactory, redis_server: RedisServer) -> None:
    args = ("--redis-url", redis_server.url) if mode == "redis" else ()
    client = Client(start_api(mode, *args, "--origin-latency-ms", "0").port)
    keys = list(dict.fromkeys(lookalike_keys()))
    assert len(keys) >= 6
    assert [client.get(f"/data?key={k}")[1]["x-cache"] for k in keys] == ["miss"] * len(keys)
    assert [client.get(f"/data?key={k}")[1]["x-cache"] for k in keys] == ["hit"] * len(keys)


def raw_exchange(port: int, request: bytes, timeout_s: float = 10.0) -> int:
    """Send ``request`` as is; the status answered, or 0 when the server closed the connection instead."""
    with socket.create_connection((LOOPBACK, port), timeout_s) as sock:
        try:
            sock.sendall(request)
            reply = sock.recv(64)
        except (ConnectionResetError, BrokenPipeError):
            return 0
    if not reply:
        return 0
    return int(reply.split(b" ", 2)[1])


HOSTILE_REQUESTS = {
    "oversized query string (1 MiB)": b"GET /data?key=" + b"a" * MIB + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "key past 128 characters": b"GET /data?key=" + b"a" * 129 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "10,000 repeated keys": b"GET /data?" + b"&".join([b"key=k"] * 10_000) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "10,000 distinct parameters": b"GET /data?"
    + b"&".join(b"p%d=1" % n for n in range(10_000))
    + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "one 1 MiB header": b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"h" * MIB + b"\r\n\r\n",
    "5,000 headers": b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
    + b"".join(b"X-H%d: v\r\n" % n for n in range(5000))
    + b"\r\n",
    "percent-encoded NUL and invalid UTF-8 in the key": b"GET /data?key=%00%ff%fe HTTP/1.1\r\nHost: x\r\n\r\n",
    "garbage request line": b"\x16\x03\x01\x02\x00 nonsense\r\n\r\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lru", "redis"])
def test_hostile_requests_get_4xx_or_a_closed_connection_never_5xx(
    mode: str, start_api: ApiFactory, redis_server: RedisServer
) -> None:
    args = ("--redis-url", redis_server.url) if mode == "redis" else ()
    api = start_api(mode, *args, "--origin-latency-ms", "0")
    start = rss_mib(api)
    answers = {}
    for _ in range(3):  # repeated, so memory that stays behind would add up
        for name, request in HOSTILE_REQUESTS.items():
            answers[name] = raw_exchange(api.port, request)
    print(f"{mode}: {answers}")
    assert all(status == 0 or 400 <= status < 500 for status in answers.values()), answers
    # the API's own bounds (request_limits.py), not only the HTTP parser's
    assert answers["10,000 repeated keys"] == 414
    assert answers["one 1 MiB header"] == answers["5,000 headers"] == 431
    assert api.alive() and Client(api.port).get("/data?key=still-fine")[0] == 200
    assert rss_mib(api) - start <= MAX_RSS_GROWTH_MIB
    assert "Traceback" not in api.log_tail(200)


def open_files(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())


def stall(port: int, count: int) -> list[socket.socket]:
    """``count`` clients that connect and never finish their headers: every other one sends half a request
    line and headers (slowloris), the rest nothing at all."""
    stalled = []
    for n in range(count):
        sock = socket.create_connection((LOOPBACK, port), 5)
        stalled.append(sock)
        if n % 2:
            sock.sendall(b"GET /data?key=slow%d HTTP/1.1\r\nHost: x\r\nX-Slow: " % n)
    return stalled


def wait_for_open_files(pid: int, at_least: int, timeout_s: float = 20.0) -> int:
    """The API's open files once it has accepted what the kernel queued for it."""
    deadline = time.monotonic() + timeout_s
    while (held := open_files(pid)) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    return held


@pytest.mark.slow
def test_500_stalled_clients_cost_a_file_and_a_few_kib_each_and_others_are_still_served(
    start_api: ApiFactory,
) -> None:
    """Expected (RELIABILITY.md, "Stalled clients"): uvicorn has no header-read timeout, so each client that
    never finishes its headers holds its connection until it leaves, at the cost of one open file and a few
    KiB; 500 of them leave normal clients served, and each can still finish its request."""
    api = start_api("lru", "--origin-latency-ms", "0")
    warm = Client(api.port)
    warm.hammer(20, "/data?key=warm-up")
    warm.close()
    start_rss, start_files = rss_mib(api), open_files(api.pid)
    stalled = []
    try:
        stalled = stall(api.port, STALLED)
        # one file each, give or take the connections of the test's own clients opening or closing meanwhile
        held = wait_for_open_files(api.pid, start_files + STALLED - 4) - start_files
        assert abs(held - STALLED) <= 4, f"{held} files held for {STALLED} stalled clients"
        assert Client(api.port).hammer(50, "/data?key=normal") == ["miss"] + ["hit"] * 49
        grown = rss_mib(api) - start_rss
        assert grown <= STALLED * STALLED_KIB_EACH / 1024, f"RSS grew {grown:.1f} MiB for {STALLED} stalled clients"
        halfway = stalled[1::2][:50]
        for sock in halfway:  # and they can still finish
            sock.sendall(b"1\r\n\r\n")
        assert all(sock.recv(12).startswith(b"HTTP/1.1 200") for sock in halfway)
    finally:
        for sock in stalled:
            sock.close()
    assert "Traceback" not in api.log_tail(200)


@pytest.mark.slow
def test_stalled_clients_up_to_the_open_file_limit_lock_new_clients_out_until_they_leave(tmp_path: Path) -> None:
    """Expected (RELIABILITY.md): once stalled clients hold every file the API may open, a new client is
    refused (uvloop closes the connection it cannot keep) instead of waiting; as soon as some leave, new
    clients are served again, without a restart."""
    prlimit = require_binary("prlimit")  # util-linux
    api = ApiServer(
        tmp_path, "lru", extra_args=["--origin-latency-ms", "0"], argv_prefix=[prlimit, "--nofile=128", "--"]
    )
    stalled = []
    try:
        stalled = stall(api.port, 160)
        assert wait_for_open_files(api.pid, 128) == 128
        with pytest.raises((OSError, http.client.HTTPException)):
            Client(api.port, timeout_s=3).get("/healthz")
        for sock in stalled[:60]:
            sock.close()
        deadline = time.monotonic() + 20
        while (answer := _healthz(api.port)) != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert answer == 200
    finally:
        for sock in stalled:
            sock.close()
        api.stop()


def _healthz(port: int) -> int | None:
    try:
        return Client(port, timeout_s=3).get("/healthz")[0]
    except (OSError, http.client.HTTPException):
        return None
