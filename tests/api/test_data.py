"""GET /data in each mode, through HTTP on a real ``leaklab api`` process."""

from __future__ import annotations

import json

import pytest

from leaklab.procs import RedisServer
from leaklab.scrape import scrape

from ..conftest import ApiFactory
from .helpers import Client

PAYLOAD_ITEMS = 10_000


def start_mode(start_api: ApiFactory, mode: str, redis_server: RedisServer | None) -> Client:
    extra = ("--redis-url", redis_server.url) if redis_server else ()
    api = start_api(mode, *extra)
    return Client(api.port)


@pytest.fixture(params=["leaky", "lru", "redis"])
def client(request: pytest.FixtureRequest, start_api: ApiFactory) -> Client:
    mode = request.param
    redis = request.getfixturevalue("redis_server") if mode == "redis" else None
    return start_mode(start_api, mode, redis)


def test_data_returns_the_story_payload_as_json(client: Client) -> None:
    status, headers, body = client.get("/data")
    assert status == 200
    assert headers["content-type"] == "application/json"
    assert headers["x-cache"] == "miss"  # a fresh uuid per request never hits
    assert json.loads(body) == {"data": ["xxxx"] * PAYLOAD_ITEMS}


def test_keyless_requests_always_miss(client: Client) -> None:
    assert set(client.hammer(20)) == {"miss"}


def test_a_given_key_misses_once_then_hits(client: Client) -> None:
    before = scrape(client.port)
    assert client.hammer(1, "/data?key=user:42") == ["miss"]
    assert client.hammer(3, "/data?key=user:42") == ["hit", "hit", "hit"]
    status, _, body = client.get("/data?key=user:42")
    assert status == 200 and json.loads(body) == {"data": ["xxxx"] * PAYLOAD_ITEMS}
    after = scrape(client.port)
    assert after.value("leaklab_cache_hits_total") - before.value("leaklab_cache_hits_total") == 4
    assert after.value("leaklab_cache_misses_total") - before.value("leaklab_cache_misses_total") == 1


@pytest.mark.parametrize(
    "query",
    [
        "key=",  # empty
        "key=" + "k" * 129,  # too long
        "key=a%20b",  # space
        "key=%C3%A9t%C3%A9",  # non-ASCII
        "key=a/b",  # slash
        "key=%3Cscript%3E",
    ],
)
def test_invalid_keys_get_a_422_naming_the_rule(start_api: ApiFactory, query: str) -> None:
    client = Client(start_api("lru").port)
    status, headers, body = client.get(f"/data?{query}")
    assert status == 422
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error == "key must be 1 to 128 characters of [A-Za-z0-9_.:-]"
    # the bad request stored nothing
    assert scrape(client.port).value("leaklab_cache_entries") == 0


def test_longest_valid_key_and_every_allowed_character_work(start_api: ApiFactory) -> None:
    client = Client(start_api("lru").port)
    assert client.hammer(2, "/data?key=" + "k" * 128) == ["miss", "hit"]
    assert client.hammer(2, "/data?key=Az09_.:-") == ["miss", "hit"]


def test_lru_mode_keeps_at_most_its_bound_and_counts_evictions(start_api: ApiFactory) -> None:
    client = Client(start_api("lru", "--lru-max-entries", "5").port)
    for i in range(12):
        client.hammer(1, f"/data?key=k{i}")
    metrics = scrape(client.port)
    assert metrics.value("leaklab_cache_entries") == 5
    assert metrics.value("leaklab_cache_limit_entries") == 5
    assert metrics.value("leaklab_cache_evictions_total") == 7
    assert metrics.value("leaklab_cache_bytes") == 5 * 70_010
    # the most recent keys are still there, the oldest were evicted
    assert client.hammer(1, "/data?key=k11") == ["hit"]
    assert client.hammer(1, "/data?key=k0") == ["miss"]


def test_payload_items_setting_changes_the_payload(start_api: ApiFactory) -> None:
    client = Client(start_api("leaky", "--payload-items", "3").port)
    status, _, body = client.get("/data")
    assert status == 200 and json.loads(body) == {"data": ["xxxx"] * 3}


def test_health_and_readiness(client: Client) -> None:
    status, body = client.json("GET", "/healthz")
    assert status == 200 and body["status"] == "ok"
    status, body = client.json("GET", "/readyz")
    assert status == 200 and body["status"] == "ready"


def test_unknown_paths_are_404_and_debug_is_off_by_default(start_api: ApiFactory) -> None:
    client = Client(start_api("leaky").port)
    assert client.get("/nope")[0] == 404
    assert client.get("/debug/memory")[0] == 404
