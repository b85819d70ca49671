"""The story's bug: a cache that is a plain dict and is never pruned.

``GET /data`` without ``?key=`` uses a fresh uuid4 per request, so every request is a miss and
every miss adds one entry (about one payload, ~70 KB at the default) that stays until the process
dies. Nothing here evicts, expires or bounds anything: that is the whole leak.
"""

from __future__ import annotations

from . import CacheStats


class LeakyCache:
    """An unbounded dict: every key ever stored stays forever."""

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}
        self._bytes = 0

    async def get(self, key: str) -> bytes | None:
        return self._store.get(key)

    async def put(self, key: str, value: bytes) -> None:
        self._store[key] = memoryview(value).tobytes()  # THE LEAK: stored forever, never removed
        self._bytes += len(value)

    async def ready(self) -> bool:
        return True

    async def stats(self) -> CacheStats:
        return CacheStats(len(self._store), self._bytes, 0, 0, 0)

    async def close(self) -> None:
        pass  # the memory goes when the process does (and memray's leaks view still sees it)
