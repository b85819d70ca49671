"""The two ceilings the API is measured against, each serving the API's exact body under the same uvicorn settings.

- ``fastapi``: the API itself (``create_app``, same middleware and metrics) plus one route that returns the
  precomputed body: what the framework costs with no cache work at all.
- ``asgi``: a bare ASGI callable returning the same bytes: what the server (uvicorn) costs.

Run one with ``python -m leaklab.bench.ceiling fastapi|asgi --port N``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.responses import Response

from leaklab_api.app import create_app
from leaklab_api.main import uvicorn_options
from leaklab_api.origin import Origin
from leaklab_api.settings import CacheMode, Settings

CEILING_PATH = "/ceiling"
KINDS = ("fastapi", "asgi")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def fastapi_ceiling(settings: Settings) -> FastAPI:
    """The API app with one extra route returning the origin's precomputed body."""
    app = create_app(settings)
    body = Origin(settings.payload_items, 0).body

    @app.get(CEILING_PATH, response_class=Response)
    async def ceiling() -> Response:
        return Response(body, media_type="application/json", headers={"X-Cache": "hit"})

    return app


def asgi_ceiling(settings: Settings) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A bare ASGI app: every HTTP request gets the precomputed body, nothing else runs."""
    body = Origin(settings.payload_items, 0).body
    start = {
        "type": "http.response.start",
        "status": 200,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-cache", b"hit"),
        ],
    }
    message = {"type": "http.response.body", "body": body}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                event = await receive()
                if event["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif event["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send(start)
        await send(message)

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leaklab.bench.ceiling", description=__doc__)
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payload-items", type=int, default=10_000)
    args = parser.parse_args(argv)
    settings = Settings(cache_mode=CacheMode.LRU, port=args.port, payload_items=args.payload_items, origin_latency_ms=0)
    app: Any = fastapi_ceiling(settings) if args.kind == "fastapi" else asgi_ceiling(settings)

    import uvicorn

    uvicorn.run(app, **uvicorn_options(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
