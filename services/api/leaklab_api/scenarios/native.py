"""Native memory that is never freed: a buffer from C's ``malloc`` (here through ctypes) with no ``free``.

Where it turns up: C extensions and bindings (image and XML libraries, database drivers, ML runtimes,
compression), ctypes/cffi code that owns a pointer, or a library that caches in C. Python's allocator
never sees this memory, so ``tracemalloc``, ``gc`` and ``sys.getsizeof`` all report nothing while RSS
and the cgroup climb: the signature of a native leak. memray with ``--native`` sees it, because it
hooks ``malloc`` itself and records the C and Python stacks of each call.

Which line leaks: ``buffer = libc.malloc(size)`` in ``Native.on_request``; the buffer is filled (so its
pages become resident) and its pointer dropped without ``libc.free(buffer)``.

The fix (``fixed``): free what you allocate, on every path (``try``/``finally``), or let an owner
object free it (a context manager, ``weakref.finalize``); in a third-party library, upgrade or report.
"""

from __future__ import annotations

import ctypes
import ctypes.util

from prometheus_client import CollectorRegistry


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None)
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free.restype = None
    return libc


class Native:
    """Compresses each response through a C buffer (the work itself is elided)."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.fixed = fixed
        self.libc = _libc()

    def on_request(self, key: str, body: bytes) -> None:
        size = len(body)
        buffer = self.libc.malloc(size)  # THE LEAK (leaky): never freed; tracemalloc cannot see it
        if not buffer:
            return  # out of memory: skip the work rather than fail the request
        try:
            ctypes.memmove(buffer, body, size)  # touched, so its pages count in RSS
        finally:
            if self.fixed:
                self.libc.free(buffer)
