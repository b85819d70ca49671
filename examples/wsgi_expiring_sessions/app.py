"""A plain WSGI app (no framework, standard library only) whose sessions expire: memory climbs, then holds.

Pattern: server-side sessions (or a rate limiter's buckets, an idempotency-key store) kept in a dict
and pruned of entries older than a time-to-live. Every request here opens a session (a fresh id in the
path), so the store grows for ``TTL_S`` seconds and then holds steady: as many sessions expire as
arrive. A plateau above the start is not a leak, and the judge must tell it from the leaks beside it.
Unlike an LRU (the catalogue's fix, bounded by a count), this bound is time: the plateau is the request
rate times ``TTL_S`` times a session's size, so it moves with the traffic but does not climb with it.

    leaklab check --app app:app --app-dir examples/wsgi_expiring_sessions --path '/sessions/{uuid}'

It runs on nothing but Python: with no framework in its environment, the lab's launcher serves it with
the standard library's ``wsgiref`` (a thread per request).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

TTL_S = 6.0
CART_LINES = 128  # a session holds about 12 KiB: its cart, a line per item

_sessions: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()  # oldest first
_lock = threading.Lock()


def open_session(session_id: str) -> int:
    """Store the session, drop every one older than ``TTL_S``; the number held now."""
    now = time.monotonic()
    with _lock:
        _sessions[session_id] = (now, [f"{session_id}: item {n}" for n in range(CART_LINES)])
        while _sessions and next(iter(_sessions.values()))[0] < now - TTL_S:
            _sessions.popitem(last=False)
        return len(_sessions)


def app(environ: dict[str, object], start_response: Callable[..., object]) -> Iterable[bytes]:
    session_id = str(environ.get("PATH_INFO", "/")).rsplit("/", 1)[-1] or "anonymous"
    held = open_session(session_id)
    body = f'{{"session": "{session_id}", "sessions_held": {held}}}'.encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
