"""Locust → Prometheus: the master (or a standalone Locust) serves its live stats at ``/metrics``.

Imported by ``locustfile.py``. Off unless ``--metrics-port`` (``LOCUST_METRICS_PORT``) is set; the
Compose lab sets it, so Prometheus scrapes ``locust:9646``. Workers never serve it: the master
already aggregates their stats. Values are read from ``runner.stats`` at scrape time (a collector),
so they always match the web UI, and counters restart from zero when the UI's "Reset stats" or a new
test resets them, which ``rate()`` handles.

Series: ``locust_users``, ``locust_workers``, ``locust_running``, ``locust_requests_total{method,name}``,
``locust_failures_total{method,name}``, ``locust_response_time_seconds{quantile}`` (the last ~10 s,
as the web UI's "current" percentiles), ``locust_current_rps`` and ``locust_current_fail_per_second``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from locust import events
from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, MasterRunner, WorkerRunner
from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

# isort: split
from lab_options import add_options

QUANTILES = (0.5, 0.9, 0.95, 0.99)


add_options(
    ("--metrics-port", int, 0, "serve Prometheus metrics on this port (master or standalone Locust; 0 = off)"),
    ("--metrics-host", str, "127.0.0.1", "address the metrics endpoint binds (0.0.0.0 inside a container)"),
    web_ui=False,
)


class LocustCollector(Collector):
    """Reads the runner's stats when Prometheus scrapes."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment

    def collect(self) -> Iterator[Metric]:
        runner = self.environment.runner
        if runner is None:
            return
        yield GaugeMetricFamily("locust_users", "Users running now (all workers).", value=runner.user_count)
        workers = runner.worker_count if isinstance(runner, MasterRunner) else 0
        yield GaugeMetricFamily("locust_workers", "Workers connected to the master (0 = standalone).", value=workers)
        running = 1 if runner.state in (STATE_SPAWNING, STATE_RUNNING) else 0
        yield GaugeMetricFamily("locust_running", "1 while a test is spawning or running.", value=running)

        stats = runner.stats
        requests = CounterMetricFamily("locust_requests", "Requests made, by endpoint.", labels=["method", "name"])
        failures = CounterMetricFamily("locust_failures", "Requests that failed.", labels=["method", "name"])
        for entry in stats.entries.values():
            labels = [entry.method or "", entry.name]
            requests.add_metric(labels, entry.num_requests)
            failures.add_metric(labels, entry.num_failures)
        yield requests
        yield failures

        total = stats.total
        percentiles = GaugeMetricFamily(
            "locust_response_time_seconds",
            "Response time percentiles over the last ~10 s (since the start until 10 s have passed).",
            labels=["quantile"],
        )
        if total.num_requests:
            for quantile in QUANTILES:
                millis = total.get_current_response_time_percentile(quantile)
                if millis is None:
                    millis = total.get_response_time_percentile(quantile)
                percentiles.add_metric([str(quantile)], millis / 1000.0)
        yield percentiles
        yield GaugeMetricFamily("locust_current_rps", "Requests per second now.", value=total.current_rps or 0.0)
        yield GaugeMetricFamily(
            "locust_current_fail_per_second", "Failures per second now.", value=total.current_fail_per_sec or 0.0
        )


@events.init.add_listener
def _serve_metrics(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    port = int(getattr(options, "metrics_port", 0) or 0)
    if not port or isinstance(environment.runner, WorkerRunner):
        return
    from gevent.pywsgi import WSGIServer  # locust runs on gevent: serve from a greenlet, not a thread

    registry = CollectorRegistry(auto_describe=True)
    registry.register(LocustCollector(environment))
    server = WSGIServer((options.metrics_host, port), make_wsgi_app(registry), log=None)
    try:
        server.start()
    except OSError as exc:
        sys.exit(f"locust: error: --metrics-port {port}: cannot listen on {options.metrics_host}: {exc.strerror}")
    events.quitting.add_listener(lambda **_: server.stop(timeout=1))
