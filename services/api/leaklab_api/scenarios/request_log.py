"""A debug log of recent requests that only grows.

Where it turns up: "keep the last requests around for the debug page / error reports / replay": a
module-level list that every request appends to, with a trim that was never written, or a history
kept on a long-lived object (an HTTP client's hooks, a test double left in production code).

Which line leaks: ``self.recent.append(...)`` in ``RequestLog.on_request``: each entry holds a copy of
the response, and nothing ever removes one.

The fix (``fixed``): a bounded container, ``collections.deque(maxlen=N)``, which drops the oldest
entry on each append once full.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import MutableSequence
from typing import Any

from prometheus_client import CollectorRegistry

BOUND = 50  # the fix keeps this many recent requests


class RequestLog:
    """Keeps recent requests (key, time, response) for a debug page."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.recent: MutableSequence[dict[str, Any]] = deque(maxlen=BOUND) if fixed else []

    def on_request(self, key: str, body: bytes) -> None:
        self.recent.append({"key": key, "at": time.time(), "body": memoryview(body).tobytes()})  # THE LEAK
