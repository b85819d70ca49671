"""Fixtures of the API tests: the app in-process (``make_app``) and the keep-alive clients of real processes.

Request-level behaviour (status, headers, bodies, cache order, metric names) runs in-process through
the app factory and Starlette's ``TestClient``, as the FastAPI and Starlette suites do; what needs a real
process (RSS, cgroups, a Redis outage, start-up errors) uses ``start_api`` and ``Client``.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from leaklab.scrape import Samples, parse_metrics
from leaklab_api.app import create_app
from leaklab_api.metrics import new_registry
from leaklab_api.settings import CacheMode, Settings

from .helpers import Client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while Client.opened:
        Client.opened.pop().close()


@dataclass
class InProcessApi:
    """One app built by ``create_app`` with a registry of its own, and a test client that ran its lifespan."""

    http: TestClient
    registry: CollectorRegistry
    settings: Settings

    def metrics(self) -> Samples:
        """``GET /metrics``, parsed: state gauges are computed by that scrape, as Prometheus would see them."""
        response = self.http.get("/metrics")
        assert response.status_code == 200, response.text
        return parse_metrics(response.text)

    def value(self, name: str, **labels: str) -> float:
        """One sample of a fresh scrape; a missing series fails the test (it never reads as 0)."""
        return self.metrics().value(name, **labels)

    def x_cache(self, path: str, times: int = 1) -> list[str]:
        """``times`` GETs of ``path``; each must answer 200. Returns the X-Cache headers seen."""
        seen = []
        for _ in range(times):
            response = self.http.get(path)
            assert response.status_code == 200, f"GET {path} answered {response.status_code}: {response.text}"
            seen.append(response.headers["x-cache"])
        return seen


AppFactory = Callable[..., InProcessApi]


@pytest.fixture
def make_app(request: pytest.FixtureRequest) -> Iterator[AppFactory]:
    """Build apps in-process: ``make_app("lru", lru_max_entries=5)``; redis mode gets the ``redis_server``."""
    opened: list[TestClient] = []

    def make(mode: str = "lru", **settings: Any) -> InProcessApi:
        if mode == "redis" and "redis_url" not in settings:
            settings["redis_url"] = request.getfixturevalue("redis_server").url
        settings.setdefault("origin_latency_ms", 0)
        config = Settings(cache_mode=CacheMode(mode), **settings)
        registry = new_registry()
        http = TestClient(create_app(config, registry=registry))
        http.__enter__()  # runs the lifespan, as uvicorn does
        opened.append(http)
        return InProcessApi(http, registry, config)

    yield make
    for http in reversed(opened):
        http.__exit__(None, None, None)
    gc.unfreeze()  # the app's lifespan froze everything alive at its start-up
