"""Native memory that is never freed: a C copy of each response (``strdup``, through ctypes) with no ``free``.

Where it turns up: C extensions and bindings (image and XML libraries, database drivers, ML runtimes,
compression), ctypes/cffi code that owns a pointer a C function returned ("the caller must free the
result"), or a library that caches in C. Python's allocator never sees this memory, so ``tracemalloc``,
``gc`` and ``sys.getsizeof`` all report nothing while RSS and the cgroup climb: the signature of a
native leak. memray sees it, because it hooks C's allocator itself; with ``--native`` it records the C
stack of each call (here ``strdup``) under the Python line that made it.

Which line leaks: ``copy = self.libc.strdup(body)`` in ``Native.on_request``: libc allocates the copy
with ``malloc`` and writes it (so its pages are resident); the pointer is dropped without ``free``.

The fix (``fixed``): free what a C function hands you, on every path (``try``/``finally``), or give the
pointer an owner that frees it (a context manager, ``weakref.finalize``); in a third-party library,
upgrade or report.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from prometheus_client import CollectorRegistry


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
    libc.strdup.argtypes = [ctypes.c_char_p]
    libc.strdup.restype = ctypes.c_void_p  # a raw pointer: ctypes must not turn it into bytes and lose it
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free.restype = None
    return libc


class Native:
    """Hands each response to C code as a C string of its own (the C side's work is elided)."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.fixed = fixed
        self.libc = _libc()

    def on_request(self, key: str, body: bytes) -> None:
        copy = self.libc.strdup(body)  # THE LEAK (leaky): malloc'd by libc, never freed; tracemalloc cannot see it
        if copy and self.fixed:
            self.libc.free(copy)
