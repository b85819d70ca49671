"""Request data as a Prometheus label: the metrics registry grows one series per distinct value.

Where it turns up: ``REQUESTS.labels(path=request.url.path)`` (a raw path with ids in it), a user id,
a tenant, a query string or an error message as a label. prometheus-client keeps a child metric per
label set for the life of the process and exports every one on each scrape, so memory, scrape size and
Prometheus' own series count all grow: a leak in the very tool that watches for leaks. Each series costs
a few hundred bytes to a few KB, far less than a payload, so it grows slower than the other scenarios.

Which line leaks: ``self.lookups.labels(handler=...).inc()`` in ``MetricLabels.on_request``. The memory
is allocated inside prometheus-client (``metrics.py``), so tracemalloc's top site is a library line;
the traceback's first frame outside site-packages (``/debug/memory``'s ``caller``) is this call.

The fix (``fixed``): a bounded label, the route template (``/data``), never raw request data.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class MetricLabels:
    """Counts lookups per handler, where "handler" was meant to be the route."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.fixed = fixed
        self.lookups = Counter(
            "leaklab_scenario_lookups",
            "Lookups by handler.",
            ["handler"],
            registry=registry,
        )

    def on_request(self, key: str, body: bytes) -> None:
        # THE LEAK (leaky): the raw URL, unique per request, as a label: one child metric per request
        self.lookups.labels(handler="/data" if self.fixed else f"/data?key={key}").inc()
