"""Listeners that are never removed: a callback registered per request on a long-lived object.

Where it turns up: a request handler subscribes to an application-wide event (config reloaded, cache
invalidated, a signal, an ``EventEmitter``, a pub/sub client, ``logging.Handler``\\s added per request)
and forgets to unsubscribe. The emitter lives as long as the process and holds a strong reference to
every callback; each callback is a closure whose cells hold the request's data.

Which line leaks: tracemalloc names the line that allocates what the closure holds,
``snapshot = memoryview(body).tobytes()`` in ``Listeners.on_request``; the cause is
``self.config.subscribe(on_reload)`` with no matching ``unsubscribe``.

The fix (``fixed``): unsubscribe when the request ends (``try``/``finally``), or let the emitter hold
weak references (``weakref.WeakSet``/``WeakMethod``) so a finished request's callback can go.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry

Listener = Callable[[str], None]


class ConfigEvents:
    """An application-wide emitter of "config reloaded" events; lives as long as the process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        self._listeners.remove(listener)

    def emit(self, event: str) -> None:
        for listener in list(self._listeners):
            listener(event)

    def __len__(self) -> int:
        return len(self._listeners)


class Listeners:
    """Each request keeps a snapshot of its response and re-validates it if the config reloads."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.fixed = fixed
        self.config = ConfigEvents()
        self.stale: set[str] = set()

    def on_request(self, key: str, body: bytes) -> None:
        snapshot = memoryview(body).tobytes()  # what the closure below keeps alive

        def on_reload(event: str) -> None:
            if len(snapshot) != len(body):
                self.stale.add(key)

        self.config.subscribe(on_reload)  # THE LEAK (leaky): never unsubscribed
        try:
            pass  # the request's own work runs here while the listener is wanted
        finally:
            if self.fixed:
                self.config.unsubscribe(on_reload)
