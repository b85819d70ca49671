"""The story's fix: an in-process LRU bounded by entry count (the story used ``lru-cache``, max 50)."""

from __future__ import annotations

from typing import Any

from cachetools import LRUCache

from . import CacheStats


class _CountingLRU(LRUCache[str, bytes]):
    """cachetools' LRU that keeps a running byte total and counts its evictions."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.bytes = 0
        self.evictions = 0

    def __setitem__(self, key: str, value: bytes, *args: Any) -> None:
        old = self.get(key)
        super().__setitem__(key, value, *args)  # may call popitem() to make room
        self.bytes += len(value) - (len(old) if old is not None else 0)

    def popitem(self) -> tuple[str, bytes]:
        key, value = super().popitem()
        self.evictions += 1
        self.bytes -= len(value)
        return key, value


class LruCache:
    """At most ``max_entries`` bodies; the least recently used one is evicted to make room."""

    def __init__(self, max_entries: int) -> None:
        self._store = _CountingLRU(max_entries)

    async def get(self, key: str) -> bytes | None:
        return self._store.get(key)

    async def put(self, key: str, value: bytes) -> None:
        self._store[key] = memoryview(value).tobytes()  # a copy of our own, as in every mode

    async def ready(self) -> bool:
        return True

    async def stats(self) -> CacheStats:
        store = self._store
        return CacheStats(len(store), store.bytes, int(store.maxsize), 0, store.evictions)

    async def close(self) -> None:
        pass  # the memory goes when the process does (and memray's leaks view still sees it)
