"""GET /data in each mode, in-process through the app factory (a real Redis for redis mode)."""

from __future__ import annotations

import json

import pytest

from leaklab_api.app import KEY_RULE

from .conftest import AppFactory, InProcessApi

PAYLOAD_ITEMS = 10_000
ENTRY_BYTES = 70_010  # one cached body: {"data": ["xxxx", ...]} with 10,000 items


@pytest.fixture(params=["leaky", "lru", "redis"])
def api(request: pytest.FixtureRequest, make_app: AppFactory) -> InProcessApi:
    return make_app(request.param)


def test_data_returns_the_story_payload_as_json(api: InProcessApi) -> None:
    response = api.http.get("/data")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-cache"] == "miss"  # a fresh uuid per request never hits
    assert response.json() == {"data": ["xxxx"] * PAYLOAD_ITEMS}
    assert len(response.content) == ENTRY_BYTES


def test_keyless_requests_always_miss(api: InProcessApi) -> None:
    assert set(api.x_cache("/data", 20)) == {"miss"}


def test_a_given_key_misses_once_then_hits(api: InProcessApi) -> None:
    hits, misses = api.value("leaklab_cache_hits_total"), api.value("leaklab_cache_misses_total")
    assert api.x_cache("/data?key=user:42") == ["miss"]
    assert api.x_cache("/data?key=user:42", 3) == ["hit", "hit", "hit"]
    response = api.http.get("/data?key=user:42")
    assert response.status_code == 200 and response.json() == {"data": ["xxxx"] * PAYLOAD_ITEMS}
    assert api.value("leaklab_cache_hits_total") - hits == 4
    assert api.value("leaklab_cache_misses_total") - misses == 1


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
def test_invalid_keys_get_a_422_naming_the_rule(make_app: AppFactory, query: str) -> None:
    api = make_app("lru")
    response = api.http.get(f"/data?{query}")
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == KEY_RULE == "key must be 1 to 128 characters of [A-Za-z0-9_.:-]"
    assert [d["loc"] for d in body["detail"]] == [["query", "key"]]  # which parameter, for a client to show
    assert api.value("leaklab_cache_entries") == 0  # the bad request stored nothing
    assert api.value("leaklab_cache_misses_total") == 0


def test_longest_valid_key_and_every_allowed_character_work(make_app: AppFactory) -> None:
    api = make_app("lru")
    assert api.x_cache("/data?key=" + "k" * 128, 2) == ["miss", "hit"]
    assert api.x_cache("/data?key=Az09_.:-", 2) == ["miss", "hit"]


def test_lru_mode_keeps_at_most_its_bound_and_evicts_the_least_recently_used(make_app: AppFactory) -> None:
    api = make_app("lru", lru_max_entries=5)
    for i in range(5):
        api.x_cache(f"/data?key=k{i}")
    assert api.x_cache("/data?key=k0") == ["hit"]  # k0 is now the most recently used, k1 the least
    for i in range(5, 12):
        api.x_cache(f"/data?key=k{i}")
    assert api.value("leaklab_cache_entries") == 5
    assert api.value("leaklab_cache_limit_entries") == 5
    assert api.value("leaklab_cache_evictions_total") == 7
    assert api.value("leaklab_cache_bytes") == 5 * ENTRY_BYTES
    assert api.x_cache("/data?key=k11") == ["hit"]  # the newest keys are still there
    assert api.x_cache("/data?key=k1") == ["miss"]  # the least recently used went first
    # k0 was read after k1..k4 were written, so it outlived them; k7 (the oldest of the rest) went too
    assert api.x_cache("/data?key=k7") == ["miss"]


def test_payload_items_setting_changes_the_payload(make_app: AppFactory) -> None:
    api = make_app("leaky", payload_items=3)
    response = api.http.get("/data")
    assert response.status_code == 200 and response.json() == {"data": ["xxxx"] * 3}


def test_health_and_readiness(api: InProcessApi) -> None:
    health = api.http.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    ready = api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_unknown_paths_are_404_and_debug_is_off_by_default(make_app: AppFactory) -> None:
    api = make_app("leaky")
    assert api.http.get("/nope").status_code == 404
    assert api.http.get("/debug/memory").status_code == 404
    assert json.loads(api.http.get("/nope").content)  # a JSON error body, never an HTML page
