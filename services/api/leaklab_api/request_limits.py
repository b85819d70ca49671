"""Bounds on what one request may carry: a query string and headers of sane size, or a 414/431.

uvicorn's httptools parser accepts a 1 MB header or 5,000 headers and hands them to the app; every
such request costs memory and parsing time, and no client of this API needs more than a 128-character
key. The limits are nginx's defaults (8 KB per request line, 4 x 8 KB of headers) rounded, checked
in a pure ASGI middleware before routing, for well under a microsecond per normal request.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_QUERY_BYTES = 8 * 1024
MAX_HEADER_BYTES = 32 * 1024
MAX_HEADERS = 100


class RequestLimitsMiddleware:
    """Answers 414 to an oversized query string and 431 to oversized or too many headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = _problem(scope)
            if problem is not None:
                status, line = problem
                await _reject(send, status, line)
                return
        await self.app(scope, receive, send)


def _problem(scope: Scope) -> tuple[int, str] | None:
    if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
        return 414, f"the query string is longer than {MAX_QUERY_BYTES} bytes"
    headers = scope.get("headers", ())
    if len(headers) > MAX_HEADERS:
        return 431, f"more than {MAX_HEADERS} request headers"
    if sum(len(name) + len(value) for name, value in headers) > MAX_HEADER_BYTES:
        return 431, f"the request headers are larger than {MAX_HEADER_BYTES} bytes"
    return None


async def _reject(send: Send, status: int, line: str) -> None:
    body = orjson.dumps({"error": line, "detail": line})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
