"""HTTP request metrics, named and labelled exactly as prometheus-fastapi-instrumentator's defaults.

Dashboards and alerts written for that library's conventional names work unchanged. The library
itself cost ~40 us per request here (a second route lookup, a Request and a Response object and five
``labels()`` calls per request: a third of the API's CPU per request in lru mode, see
BENCHMARKS.md); this pure ASGI middleware records the same samples for a few microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from time import perf_counter
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Summary
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_HIGHR_BUCKETS = (
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    1.5,
    2,
    2.5,
    3,
    3.5,
    4,
    4.5,
    5,
    7.5,
    10,
    30,
    60,
)
LATENCY_LOWR_BUCKETS = (0.1, 0.5, 1)


class HttpMetrics:
    """The request metrics: ``http_requests_total``, sizes and two latency histograms, by route template."""

    def __init__(self, registry: CollectorRegistry, excluded_handlers: Sequence[str] = ()) -> None:
        self.excluded = [re.compile(pattern) for pattern in excluded_handlers]
        self.total = Counter(
            "http_requests_total",
            "Total number of requests by method, status and handler.",
            ("method", "status", "handler"),
            registry=registry,
        )
        self.request_size = Summary(
            "http_request_size_bytes",
            "Content length of incoming requests by handler. Only value of header is respected. Otherwise ignored. "
            "No percentile calculated. ",
            ("handler",),
            registry=registry,
        )
        self.response_size = Summary(
            "http_response_size_bytes",
            "Content length of outgoing responses by handler. Only value of header is respected. Otherwise ignored. "
            "No percentile calculated. ",
            ("handler",),
            registry=registry,
        )
        self.latency_highr = Histogram(
            "http_request_duration_highr_seconds",
            "Latency with many buckets but no API specific labels. Made for more accurate percentile calculations. ",
            buckets=LATENCY_HIGHR_BUCKETS,
            registry=registry,
        )
        self.latency_lowr = Histogram(
            "http_request_duration_seconds",
            "Latency with only few buckets by handler. Made to be only used if aggregation by handler is important. ",
            ("method", "handler"),
            buckets=LATENCY_LOWR_BUCKETS,
            registry=registry,
        )
        # labels() costs a lock and a dict lookup per call: keep each label set's children at hand.
        self._children: dict[tuple[str, str, str], tuple[Any, Any, Any, Any]] = {}

    def observe(
        self, method: str, status: str, handler: str, request_bytes: int, response_bytes: int, seconds: float
    ) -> None:
        children = self._children.get((method, status, handler))
        if children is None:
            children = (
                self.total.labels(method, status, handler),
                self.request_size.labels(handler),
                self.response_size.labels(handler),
                self.latency_lowr.labels(method, handler),
            )
            self._children[(method, status, handler)] = children
        total, request_size, response_size, latency_lowr = children
        total.inc()
        request_size.observe(request_bytes)
        response_size.observe(response_bytes)
        self.latency_highr.observe(seconds)
        latency_lowr.observe(seconds)

    def is_excluded(self, handler: str) -> bool:
        return any(pattern.search(handler) for pattern in self.excluded)


class HttpMetricsMiddleware:
    """Times each HTTP request and records it in ``HttpMetrics`` under its route template ("none" if unrouted)."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        status = 500  # what an exception that escapes the app becomes
        response_bytes = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_bytes
            if message["type"] == "http.response.start":
                status = message["status"]
                response_bytes = _content_length(message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = _route_path(scope)
            if not self.metrics.is_excluded(route or scope["path"]):
                self.metrics.observe(
                    scope["method"],
                    str(int(status)),
                    route or "none",
                    _content_length(scope["headers"]),
                    response_bytes,
                    max(perf_counter() - start, 0.0),
                )


def _content_length(headers: Any) -> int:
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


def _route_path(scope: Scope) -> str | None:
    """The template of the route that handled the request (the router records it in the scope)."""
    route = scope.get("route")
    if route is not None:
        path = getattr(route, "path", None)
        return path if isinstance(path, str) else None
    partial = None  # routes the router did not record (FastAPI's /docs): match them as the router did
    for candidate in getattr(scope.get("app"), "routes", ()):
        match, _ = candidate.matches(scope)
        path = getattr(candidate, "path", None)
        if not isinstance(path, str):
            continue
        if match is Match.FULL:
            return path
        if match is Match.PARTIAL and partial is None:
            partial = path
    return partial
