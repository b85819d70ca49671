"""GET /metrics: every series of the contract, at exactly that path, state computed at scrape time.

In-process through the app factory, except the cgroup gauges, which need a real process in a real group.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from leaklab.scrape import parse_metrics, scrape
from leaklab_api import __version__
from leaklab_api.app import create_app
from leaklab_api.cgroup import MemoryCgroup
from leaklab_api.settings import CacheMode, Settings

from ..conftest import ApiFactory
from .conftest import AppFactory

CONTRACT = [
    "process_resident_memory_bytes",
    "process_start_time_seconds",
    "python_gc_objects_collected_total",
    "leaklab_cache_entries",
    "leaklab_cache_bytes",
    "leaklab_cache_limit_entries",
    "leaklab_cache_limit_bytes",
    "leaklab_cache_hits_total",
    "leaklab_cache_misses_total",
    "leaklab_cache_evictions_total",
    "leaklab_cache_errors_total",
    "leaklab_cgroup_memory_bytes",
    "leaklab_cgroup_memory_limit_bytes",
    "leaklab_cgroup_oom_kills_total",
]


@pytest.mark.parametrize("mode", ["leaky", "lru", "redis"])
def test_metrics_has_every_contract_series(mode: str, make_app: AppFactory) -> None:
    api = make_app(mode)
    api.x_cache("/data", 3)
    response = api.http.get("/metrics")
    assert response.status_code == 200  # exactly /metrics, no 307 to /metrics/
    assert response.headers["content-type"].startswith("text/plain")
    metrics = parse_metrics(response.text)
    missing = [name for name in CONTRACT if not metrics.with_prefix(name)]
    assert not missing, f"missing series: {missing}"
    assert metrics.value("leaklab_info", mode=mode, version=__version__, scenario="cache", fixed="false") == 1
    assert metrics.value("http_requests_total", handler="/data", method="GET", status="200") == 3
    assert metrics.with_prefix("http_request_duration_seconds_bucket")
    assert metrics.value("leaklab_cache_misses_total") == 3
    assert metrics.value("leaklab_cache_entries") == 3


def test_metrics_path_does_not_redirect(make_app: AppFactory) -> None:
    response = make_app("lru").http.get("/metrics", follow_redirects=False)
    assert response.status_code == 200 and "location" not in response.headers
    assert "# TYPE leaklab_cache_entries gauge" in response.text


def test_leaky_cache_gauges_follow_the_cache_at_scrape_time(make_app: AppFactory) -> None:
    api = make_app("leaky")
    api.x_cache("/data", 10)
    first = api.metrics()
    api.x_cache("/data", 5)
    second = api.metrics()
    assert first.value("leaklab_cache_entries") == 10
    assert second.value("leaklab_cache_entries") == 15
    assert second.value("leaklab_cache_bytes") == 15 * 70_010
    assert second.value("leaklab_cache_limit_entries") == 0  # unbounded
    assert second.value("leaklab_cache_evictions_total") == 0


def test_cgroup_gauges_read_this_process_group(start_api: ApiFactory) -> None:
    api = start_api("lru")
    group = MemoryCgroup.find(Path(f"/proc/{api.pid}/cgroup"))
    if group is None:
        pytest.skip("no memory cgroup is readable here")
    memory = group.read()
    assert memory is not None
    metrics = scrape(api.port)
    usage = metrics.value("leaklab_cgroup_memory_bytes")
    rss = metrics.value("process_resident_memory_bytes")
    # the group holds at least this process (it may hold others: the cgroup we run in is shared)
    assert usage >= rss * 0.5
    assert metrics.value("leaklab_cgroup_memory_limit_bytes") == memory.limit_bytes  # 0 = unlimited, as the kernel says


def test_fresh_registry_per_app_lets_two_apps_coexist() -> None:
    """The factory takes a registry, so tests (and benches) can build many apps in one process."""
    apps = [create_app(Settings(cache_mode=CacheMode(mode)), registry=CollectorRegistry()) for mode in ("leaky", "lru")]
    for app, mode in zip(apps, ("leaky", "lru"), strict=True):
        with TestClient(app) as http:
            assert http.get("/data?key=a").headers["x-cache"] == "miss"
            assert http.get("/data?key=a").headers["x-cache"] == "hit"
            metrics = parse_metrics(http.get("/metrics").text)
            assert metrics.value("leaklab_info", mode=mode, version=__version__, scenario="cache", fixed="false") == 1
            assert metrics.value("leaklab_cache_hits_total") == 1


def test_http_metrics_count_every_outcome_by_route_template(make_app: AppFactory) -> None:
    api = make_app("lru")
    api.x_cache("/data?key=a", 2)
    assert api.http.get("/data?key=a%20b").status_code == 422
    assert api.http.get("/nope").status_code == 404
    assert api.http.post("/data").status_code == 405
    api.http.get("/metrics")  # /metrics itself is not counted
    metrics = api.metrics()
    assert metrics.value("http_requests_total", handler="/data", method="GET", status="200") == 2
    assert metrics.value("http_requests_total", handler="/data", method="GET", status="422") == 1
    assert metrics.value("http_requests_total", handler="none", method="GET", status="404") == 1
    assert metrics.value("http_requests_total", handler="/data", method="POST", status="405") == 1
    assert not [k for k in metrics.with_prefix("http_requests_total") if "/metrics" in k]
    count = metrics.value("http_request_duration_seconds_count", handler="/data", method="GET")
    assert count == 3
    assert metrics.value("http_request_duration_seconds_bucket", handler="/data", method="GET", le="+Inf") == count
    assert metrics.value("http_response_size_bytes_sum", handler="/data") >= 2 * 70_010
