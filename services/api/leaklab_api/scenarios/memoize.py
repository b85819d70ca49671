"""Unbounded memoization: ``functools.cache`` (``lru_cache(maxsize=None)``) keyed by request data.

Where it turns up: a helper that renders or fetches something per user, tenant, URL or query, made
"fast" with ``@functools.cache`` or ``@lru_cache(maxsize=None)``. It looks like a pure-function
optimisation, but the cache is a module-level dict that lives as long as the process, and when the
argument comes from requests (ids, uuids, free text) every distinct value adds an entry forever.

Which line leaks: the cache keeps every return value, so tracemalloc names the line that builds the
value, ``return key.encode().ljust(...)`` in ``render_page``; the cause is the decorator, built in
``Memoize.__init__`` with ``maxsize=None``.

The fix (``fixed``): a bound, ``lru_cache(maxsize=BOUND)``, or no memoization for keys that never repeat.
"""

from __future__ import annotations

import functools

from prometheus_client import CollectorRegistry

BOUND = 50  # the fix's bound, the same as the story's LRU


def render_page(key: str, size_bytes: int) -> bytes:
    """The expensive per-key work worth caching: a page for ``key``, ``size_bytes`` long."""
    return key.encode().ljust(size_bytes, b"x")  # the value the cache keeps


class Memoize:
    """Renders each request's page through a memoized function."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        # THE LEAK (leaky): maxsize=None is functools.cache: one entry per distinct key, forever
        self.render = functools.lru_cache(maxsize=BOUND if fixed else None)(render_page)

    def on_request(self, key: str, body: bytes) -> None:
        self.render(key, len(body))
