"""Native memory that is never freed: a C library's resource (an SQLite connection) opened per request, never closed.

Where it turns up: C extensions and bindings (database drivers, image and XML libraries, ML runtimes,
compression), ctypes/cffi code that owns a pointer, or a library that caches in C. Python's allocator
never sees this memory, so ``tracemalloc``, ``gc`` and ``sys.getsizeof`` all report a small object while
RSS and the cgroup climb: the signature of a native leak. memray with ``--native`` sees it, because it
hooks ``malloc`` in every loaded library (here ``sqlite3Malloc`` in libsqlite3) and records the C and
Python stacks of each call. (A pointer from ``ctypes`` calls libc's ``malloc`` directly, around those
hooks: memray cannot see that kind, which is why this scenario leaks through a real C library.)

Which line leaks: ``db = sqlite3.connect(":memory:")`` in ``Native.on_request``: each request opens a
scratch database for its response (a few hundred KB of C memory: page cache, schema, the stored page)
and keeps the connection "for follow-up queries" without ever closing it.

The fix (``fixed``): close what you open, on every path (``try``/``finally``, ``contextlib.closing``);
give C resources an owner with a bound or a lifetime (a pool); in a third-party library, upgrade or report.
"""

from __future__ import annotations

import sqlite3

from prometheus_client import CollectorRegistry


class Native:
    """Builds each response's report in a scratch in-memory SQLite database (the report itself is elided)."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.fixed = fixed
        self.open: dict[str, sqlite3.Connection] = {}

    def on_request(self, key: str, body: bytes) -> None:
        db = sqlite3.connect(":memory:", check_same_thread=False)  # THE LEAK (leaky): never closed
        try:
            db.execute("create table page (body blob)")
            db.execute("insert into page values (?)", (body,))  # C memory: tracemalloc sees none of it
        finally:
            if self.fixed:
                db.close()
            else:
                self.open[key] = db  # "for follow-up queries": never closed, never removed
