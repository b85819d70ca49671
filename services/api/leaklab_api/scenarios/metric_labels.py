"""Request data as a Prometheus label: the metrics registry grows one series per distinct value.

Where it turns up: ``REQUESTS.labels(path=request.url.path)`` (a raw path with ids in it), a user id,
a tenant, a query string or an error message as a label. prometheus-client keeps a child metric per
label set for the life of the process and exports every one on each scrape, so memory, scrape size and
Prometheus' own series count all grow: a leak in the very tool that watches for leaks. A histogram's
child costs a few KB (a value and a lock per bucket), far less than a payload, so it grows slower than the
other scenarios.

Which line leaks: ``self.sizes.labels(handler=...).observe(...)`` in ``MetricLabels.on_request``. The memory
is allocated inside prometheus-client (``metrics.py``), so tracemalloc's top site is a library line;
the traceback's first frame outside site-packages (``/debug/memory``'s ``caller``) is this call.

The fix (``fixed``): a bounded label, the route template (``/data``), never raw request data.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram

SIZE_BUCKETS_BYTES = tuple(float(4**k) for k in range(5, 16))  # 1 KiB to 1 GiB


class MetricLabels:
    """Records response sizes per handler, where "handler" was meant to be the route."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.fixed = fixed
        self.sizes = Histogram(
            "leaklab_scenario_response_size_bytes",
            "Response sizes by handler.",
            ["handler"],
            buckets=SIZE_BUCKETS_BYTES,
            registry=registry,
        )

    def on_request(self, key: str, body: bytes) -> None:
        # THE LEAK (leaky): the raw URL, unique per request, as a label: one child histogram per request
        self.sizes.labels(handler="/data" if self.fixed else f"/data?key={key}").observe(len(body))
