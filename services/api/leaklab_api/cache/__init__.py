"""One small interface for the three caches; ``build_cache`` picks one by mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from ..settings import CacheMode, Settings


class CacheUnavailable(Exception):
    """The cache backend failed; the request is served from the origin instead."""


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What the cache holds, computed when /metrics is scraped."""

    entries: int
    bytes: int
    limit_entries: int  # 0 = unbounded
    limit_bytes: int  # 0 = unbounded
    evictions: int


class Cache(Protocol):
    """A key-value cache of response bodies."""

    async def get(self, key: str) -> bytes | None:
        """The cached body, ``None`` on a miss; raises ``CacheUnavailable``."""
        ...

    async def put(self, key: str, value: bytes) -> None:
        """Store a copy of ``value``; raises ``CacheUnavailable``."""
        ...

    async def ready(self) -> bool:
        """Whether the backend answers now."""
        ...

    async def stats(self) -> CacheStats:
        """Current state; may be the last known state when the backend is down."""
        ...

    async def close(self) -> None: ...


def build_cache(settings: Settings) -> Cache:
    if settings.cache_mode is CacheMode.LEAKY:
        from .leaky import LeakyCache

        return LeakyCache()
    if settings.cache_mode is CacheMode.LRU:
        from .lru import LruCache

        return LruCache(settings.lru_max_entries)
    from .redis import RedisCache

    return RedisCache(
        str(settings.redis_url),
        timeout_s=settings.redis_timeout_ms / 1000,
        retry_interval_s=settings.redis_retry_interval_s,
    )
