"""Fire-and-forget asyncio tasks that never finish, each holding its payload.

Where it turns up: a handler hands slow work (a webhook, an audit record, an analytics event) to
``asyncio.create_task`` and keeps the task in a set "so it is not garbage collected", as the asyncio
docs advise, with ``add_done_callback(set.discard)``. That is right as long as every task ends; when
the peer never answers and the await has no timeout, the task never ends, the set keeps it, and its
coroutine frame keeps the payload it was given.

Which line leaks: tracemalloc names ``payload = memoryview(body).tobytes()`` in ``Tasks.on_request``,
the payload each pending task holds; the cause is ``await self._peer_answers()`` in ``_deliver``,
which waits forever.

The fix (``fixed``): bound every await on the outside world, here ``asyncio.timeout(...)``, so each
task ends (and is discarded) within the timeout; a bounded queue with a fixed pool of senders works too.
"""

from __future__ import annotations

import asyncio
import contextlib

from prometheus_client import CollectorRegistry

DELIVERY_TIMEOUT_S = 0.1  # the lab's peer is local; real code would give it a few seconds


class Tasks:
    """Delivers each response to a webhook in the background."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.fixed = fixed
        self.pending: set[asyncio.Task[None]] = set()

    def on_request(self, key: str, body: bytes) -> None:
        payload = memoryview(body).tobytes()  # THE LEAK (leaky): kept by a task that never ends
        task = asyncio.get_running_loop().create_task(self._deliver(key, payload))
        self.pending.add(task)  # a strong reference, as the asyncio docs advise
        task.add_done_callback(self.pending.discard)

    async def _deliver(self, key: str, payload: bytes) -> None:
        if self.fixed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DELIVERY_TIMEOUT_S):
                    await self._peer_answers(payload)
            return
        await self._peer_answers(payload)  # no timeout: waits as long as the peer does, here forever

    async def _peer_answers(self, payload: bytes) -> None:
        """A webhook receiver that accepted the connection and never answers."""
        await asyncio.get_running_loop().create_future()
