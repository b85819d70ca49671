"""The production fix: Redis bounded by its own ``maxmemory`` with ``allkeys-lru``.

The API sets no TTL: Redis' bound does the work. A failing Redis never fails a request: calls
have short timeouts, and after a failure requests bypass Redis for ``retry_interval_s`` before
one of them tries again, so an outage costs one timeout per interval, not one per request.
"""

from __future__ import annotations

import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from . import CacheStats, CacheUnavailable


class RedisCache:
    """GET, and SET on a miss, against a Redis configured with maxmemory + allkeys-lru."""

    def __init__(self, url: str, *, timeout_s: float, retry_interval_s: float) -> None:
        self._client = aioredis.Redis.from_url(
            url,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry_on_timeout=False,
            health_check_interval=0,
            max_connections=256,
        )
        self._retry_interval_s = retry_interval_s
        self._down_until = 0.0
        self._last = CacheStats(0, 0, 0, 0, 0)
        self.last_error: str | None = None

    async def get(self, key: str) -> bytes | None:
        self._check_circuit()
        try:
            value = await self._client.get(key)
        except (RedisError, OSError) as exc:
            raise self._trip(exc) from None
        return value if not isinstance(value, str) else value.encode()  # bytes: decode_responses is off

    async def put(self, key: str, value: bytes) -> None:
        self._check_circuit()
        try:
            await self._client.set(key, value)
        except (RedisError, OSError) as exc:
            raise self._trip(exc) from None

    async def ready(self) -> bool:
        try:
            await self._client.ping()
        except (RedisError, OSError) as exc:
            self._trip(exc)
            return False
        self._down_until = 0.0
        self.last_error = None
        return True

    async def stats(self) -> CacheStats:
        """Keys, ``used_memory``, ``maxmemory`` and ``evicted_keys`` from Redis itself."""
        if time.monotonic() < self._down_until:
            return self._last
        try:
            info = await self._client.info()
            entries = await self._client.dbsize()
        except (RedisError, OSError) as exc:
            self._trip(exc)
            return self._last
        self._last = CacheStats(
            entries=int(entries),
            bytes=int(info.get("used_memory", 0)),
            limit_entries=0,
            limit_bytes=int(info.get("maxmemory", 0)),
            evictions=int(info.get("evicted_keys", 0)),
        )
        return self._last

    async def close(self) -> None:
        await self._client.aclose()

    def _check_circuit(self) -> None:
        if time.monotonic() < self._down_until:
            raise CacheUnavailable(self.last_error or "redis unavailable")

    def _trip(self, exc: BaseException) -> CacheUnavailable:
        self._down_until = time.monotonic() + self._retry_interval_s
        self.last_error = f"{type(exc).__name__}: {exc}"
        return CacheUnavailable(self.last_error)
