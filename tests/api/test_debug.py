"""/debug/memory: tracemalloc names the line that holds the memory, as DevTools did in the story."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaklab.scrape import scrape

from ..conftest import ApiFactory
from .helpers import Client

ROOT = Path(__file__).resolve().parents[2]
LEAKY_MODULE = "services/api/leaklab_api/cache/leaky.py"
BODY_BYTES = 70_010


def leaky_store_line() -> int:
    lines = (ROOT / LEAKY_MODULE).read_text().splitlines()
    return next(i for i, line in enumerate(lines, start=1) if "self._store[key] =" in line)


@pytest.mark.slow
def test_top_site_in_leaky_mode_is_the_cache_write(start_api: ApiFactory) -> None:
    client = Client(start_api("leaky", "--tracemalloc", "--origin-latency-ms", "0").port)
    client.hammer(50)
    assert client.json("POST", "/debug/memory/baseline") == (200, {"tracing": True, "baseline": "set"})
    requests = 300
    client.hammer(requests)
    status, report = client.json("GET", "/debug/memory")
    assert status == 200 and report["tracing"] is True
    top = report["sites"][0]
    assert top["site"] == f"{LEAKY_MODULE}:{leaky_store_line()}"
    assert "self._store[key]" in top["line"]
    assert top["share"] >= 0.9, report["sites"][:3]
    # traced growth matches what was stored: one right-sized payload per request (+ dict slots)
    assert requests * BODY_BYTES <= top["growth_bytes"] <= requests * BODY_BYTES * 1.05
    assert top["count"] >= requests
    assert report["traced_bytes"] >= top["bytes"]
    assert [s["growth_bytes"] for s in report["sites"]] == sorted(
        (s["growth_bytes"] for s in report["sites"]), reverse=True
    )
    assert len(report["sites"]) == 10
    assert len(client.json("GET", "/debug/memory?limit=3")[1]["sites"]) == 3


def test_baseline_resets_growth(start_api: ApiFactory) -> None:
    client = Client(start_api("leaky", "--tracemalloc", "--origin-latency-ms", "0").port)
    client.hammer(100)
    before = client.json("GET", "/debug/memory")[1]["sites"][0]["growth_bytes"]
    assert before >= 100 * BODY_BYTES
    client.json("POST", "/debug/memory/baseline")
    after = client.json("GET", "/debug/memory")[1]["sites"]
    assert max(s["growth_bytes"] for s in after) < BODY_BYTES


@pytest.mark.slow
def test_no_site_keeps_growing_in_lru_mode(start_api: ApiFactory) -> None:
    client = Client(start_api("lru", "--tracemalloc", "--origin-latency-ms", "0").port)
    client.hammer(200)  # fill the LRU and warm up
    client.json("POST", "/debug/memory/baseline")
    client.hammer(300)
    first = {s["site"]: s["growth_bytes"] for s in client.json("GET", "/debug/memory?limit=50")[1]["sites"]}
    client.hammer(300)
    second = {s["site"]: s["growth_bytes"] for s in client.json("GET", "/debug/memory?limit=50")[1]["sites"]}
    grown = {site: growth - first.get(site, 0) for site, growth in second.items() if growth - first.get(site, 0) > 0}
    # leaky mode would add 300 x 70 KB = 21 MB to one site in a round; here no site adds one payload
    assert all(delta < BODY_BYTES for delta in grown.values()), grown
    assert sum(grown.values()) < BODY_BYTES


def test_debug_enabled_without_tracing_says_how_to_start(start_api: ApiFactory) -> None:
    client = Client(start_api("leaky", "--debug").port)
    status, report = client.json("GET", "/debug/memory")
    assert status == 200
    assert report["tracing"] is False and report["sites"] == []
    assert "LEAKLAB_TRACEMALLOC=1" in report["message"] and "POST /debug/memory/start" in report["message"]
    assert client.json("POST", "/debug/memory/baseline")[0] == 409
    assert scrape(client.port).value("leaklab_tracemalloc_tracing") == 0

    # tracing can be started at run time; growth counts from then on
    assert client.json("POST", "/debug/memory/start")[0] == 200
    client.hammer(100)
    status, report = client.json("GET", "/debug/memory")
    assert report["tracing"] is True
    assert report["sites"][0]["site"].startswith(LEAKY_MODULE)
    assert client.json("POST", "/debug/memory/stop") == (200, {"tracing": False})


def test_metrics_expose_a_bounded_set_of_sites(start_api: ApiFactory) -> None:
    client = Client(start_api("leaky", "--tracemalloc", "--origin-latency-ms", "0").port)
    client.hammer(20)
    client.json("POST", "/debug/memory/baseline")
    client.hammer(100)
    metrics = scrape(client.port)
    growth = metrics.with_prefix("leaklab_alloc_site_growth_bytes")
    share = metrics.with_prefix("leaklab_alloc_site_share")
    assert 0 < len(growth) <= 10 and len(share) == len(growth)
    assert metrics.value("leaklab_tracemalloc_tracing") == 1
    top = next(key for key in share if 'rank="1"' in key)
    assert LEAKY_MODULE in top and share[top] >= 0.9
