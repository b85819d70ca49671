"""Memory behaviour of a real ``leaklab api`` process, read from its own /metrics.

Leaky mode keeps every keyless request's payload; the fixed modes level off after warm-up.
"""

from __future__ import annotations

import pytest

from leaklab.procs import RedisServer
from leaklab.scrape import scrape

from ..conftest import ApiFactory
from .helpers import Client

BODY_BYTES = 70_010  # {"data":["xxxx", ... 10,000 times]}
REQUESTS = 1_000
MIB = 1024 * 1024


def rss(client: Client) -> float:
    return scrape(client.port).value("process_resident_memory_bytes")


@pytest.mark.slow
def test_leaky_mode_grows_by_about_one_payload_per_keyless_request(start_api: ApiFactory) -> None:
    client = Client(start_api("leaky", "--origin-latency-ms", "0").port)
    client.hammer(200)  # warm-up: allocator arenas, lazily built framework state
    before = rss(client)
    client.hammer(REQUESTS)
    growth = rss(client) - before
    expected = REQUESTS * BODY_BYTES
    assert expected * 0.75 <= growth <= expected * 1.25, f"grew {growth / MIB:.1f} MiB, expected ~{expected / MIB:.1f}"
    # and it stays: nothing ever releases it
    client.hammer(50, "/data?key=same")
    assert rss(client) - before >= expected * 0.75


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["lru", "redis"])
def test_fixed_modes_stay_flat_after_warm_up(mode: str, start_api: ApiFactory, request: pytest.FixtureRequest) -> None:
    extra: tuple[str, ...] = ("--origin-latency-ms", "0")
    if mode == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        extra += ("--redis-url", redis.url)
    client = Client(start_api(mode, *extra).port)
    client.hammer(300)
    before = rss(client)
    client.hammer(REQUESTS)
    growth = rss(client) - before
    # the same load grows leaky mode by ~67 MiB; a bounded cache stays within allocator noise
    assert growth < 4 * MIB, f"{mode} grew {growth / MIB:.1f} MiB over {REQUESTS} requests"
