"""The app factory: ``create_app(settings)`` builds the API for one cache mode."""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from . import __version__
from .cache import Cache, CacheUnavailable, build_cache
from .cgroup import MemoryCgroup
from .http_metrics import HttpMetrics, HttpMetricsMiddleware
from .metrics import CacheCounters, StateCollector, new_registry
from .origin import Origin
from .request_limits import RequestLimitsMiddleware
from .responses import (
    DataBody,
    HealthBody,
    ReadyBody,
    error_response,
    install_error_handlers,
    ok_response,
)
from .scenarios import Scenario, build_scenario
from .settings import HIDDEN, CacheMode, Settings

DATA_DOC = "A JSON payload for `key` (a fresh key per request without one), through the cache."
KEY_PATTERN = r"^[A-Za-z0-9_.:-]+$"
KEY_MAX_LENGTH = 128
KEY_RULE = "key must be 1 to 128 characters of [A-Za-z0-9_.:-]"

Key = Annotated[
    str | None,
    Query(min_length=1, max_length=KEY_MAX_LENGTH, pattern=KEY_PATTERN, description=KEY_RULE),
]


def create_app(
    settings: Settings | None = None,
    *,
    registry: CollectorRegistry | None = None,
    cache: Cache | None = None,
) -> FastAPI:
    """Build the API; pass a fresh ``registry`` (and optionally a ``cache``) in tests."""
    settings = settings or Settings()
    registry = registry if registry is not None else new_registry()
    cache = cache if cache is not None else build_cache(settings)
    origin = Origin(settings.payload_items, settings.origin_latency_ms)
    scenario = build_scenario(settings, registry)  # None for the story: its leak is the cache
    counters = CacheCounters(registry)
    cgroup = MemoryCgroup.find()
    state = StateCollector(
        settings.public_mode,
        __version__,
        cgroup,
        scenario=HIDDEN if settings.hide_scenario else settings.scenario.value,
        fixed=None if settings.hide_scenario else settings.scenario_fixed,
    )
    registry.register(state)
    tracker = None
    if settings.debug_enabled:
        from .debug import enable_debug

        debug_routes, tracker = enable_debug(settings, registry, cgroup)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.cache_mode is CacheMode.REDIS:
            await cache.ready()  # an unreachable Redis is not fatal: /readyz says so
        # Everything allocated so far lives as long as the process: move it out of the GC's way.
        gc.collect()
        gc.freeze()
        yield
        await cache.close()

    # FastAPI's built-in OpenTelemetry hooks do nothing without an OTel provider but still cost a few
    # microseconds per request; this API exports Prometheus metrics instead.
    app = FastAPI(
        title="leaklab API",
        version=__version__,
        lifespan=lifespan,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.cache = cache
    app.state.registry = registry

    async def get_data(key: Key = None) -> Response:
        key = key or str(uuid.uuid4())  # the story's bug: a fresh key per request never hits
        try:
            body = await cache.get(key)
        except CacheUnavailable:
            counters.errors.inc()
            return _json(await origin.read(key), "bypass")
        if body is not None:
            counters.hits.inc()
            return _json(body, "hit")
        counters.misses.inc()
        body = await origin.read(key)
        try:
            await cache.put(key, body)
        except CacheUnavailable:
            counters.errors.inc()
        return _json(body, "miss")

    # the story's path stays exactly as it is; a catalogue scenario wraps it
    handler = get_data if scenario is None else _beside(get_data, scenario)
    app.get(
        "/data",
        response_class=Response,
        summary="The story's endpoint: a cached payload",
        # one description for both: the wrapper's docstring would tell a drill's learner that a scenario runs
        description=DATA_DOC,
        responses=ok_response(DataBody, "the payload; X-Cache says hit, miss or bypass")
        | error_response(422, "the key breaks the rule"),
    )(handler)

    @app.get("/healthz", summary="Liveness: the process answers", responses=ok_response(HealthBody, "alive"))
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok", "mode": settings.public_mode})

    @app.get(
        "/readyz",
        summary="Readiness: 503 while the cache backend is unreachable",
        responses=ok_response(ReadyBody, "ready") | error_response(503, "the cache backend is unreachable"),
    )
    async def readyz() -> JSONResponse:
        if await cache.ready():
            return JSONResponse({"status": "ready", "mode": settings.public_mode})
        reason = getattr(cache, "last_error", None) or "cache backend unreachable"
        return JSONResponse(
            {"error": reason, "status": "unavailable", "mode": settings.public_mode, "reason": reason},
            status_code=503,
        )

    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        state.cache_stats = await cache.stats()
        if tracker is not None and tracker.tracing:
            # a tracemalloc snapshot takes 0.1-0.5 s: take it in a thread, not on the event loop
            await run_in_threadpool(tracker.recent_top_sites)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        rules = [_rule_for(error) for error in errors]
        return JSONResponse({"error": "; ".join(rules), "detail": jsonable_encoder(errors)}, status_code=422)

    install_error_handlers(app)

    # The router tries routes in registration order, and
    # FastAPI registered its /docs routes first: put the story's endpoint first.
    app.router.routes.sort(key=lambda route: getattr(route, "path", None) != "/data")

    # http_requests_total, http_request_duration_seconds, ...: prometheus-fastapi-instrumentator's names.
    app.add_middleware(RequestLimitsMiddleware)  # inside the metrics: a 414/431 is counted like any answer
    app.add_middleware(HttpMetricsMiddleware, metrics=HttpMetrics(registry, excluded_handlers=["/metrics"]))

    if settings.debug_enabled:
        app.include_router(debug_routes)

    return app


def _beside(read: Callable[[str], Awaitable[Response]], scenario: Scenario) -> Callable[..., Awaitable[Response]]:
    """``GET /data`` that also runs the catalogue scenario's code for each request (docs/leaks.md)."""

    async def get_data(key: Key = None) -> Response:
        key = key or str(uuid.uuid4())
        response = await read(key)
        scenario.on_request(key, bytes(response.body))  # the body is bytes already: no copy
        return response

    return get_data


def _json(body: bytes, cache_status: str) -> Response:
    return Response(body, media_type="application/json", headers={"X-Cache": cache_status})


def _rule_for(error: dict[str, object]) -> str:
    loc = error.get("loc") or ()
    if isinstance(loc, (tuple, list)) and loc and loc[-1] == "key":
        return KEY_RULE
    where = ".".join(str(part) for part in loc) if isinstance(loc, (tuple, list)) else str(loc)
    return f"{where}: {error.get('msg')}"
