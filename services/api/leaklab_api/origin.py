"""The simulated database behind the cache: the story's ``new Array(10000).fill('xxxx')``."""

from __future__ import annotations

import asyncio

import orjson


class Origin:
    """Serves the one row every key maps to, after ``latency_ms`` of simulated read time."""

    def __init__(self, payload_items: int, latency_ms: float) -> None:
        # Serialised once: the row is the same for every key, and re-encoding it per request
        # (~65 us) would make the encoder, not the cache, the thing a learner measures.
        self.body: bytes = orjson.dumps({"data": ["xxxx"] * payload_items})
        self._latency_s = latency_ms / 1000

    async def read(self, key: str) -> bytes:
        if self._latency_s:
            await asyncio.sleep(self._latency_s)
        return self.body
