"""Faults of whole processes: the API sent SIGTERM under load, Prometheus and the Redis exporter
going away, a Locust worker killed mid-run. Each test states the outcome a user should see."""

from __future__ import annotations

import concurrent.futures
import http.client
import os
import signal
import time
from pathlib import Path

import pytest

from leaklab.procs import LOOPBACK, Child, RedisServer, free_port, require
from leaklab.scrape import Samples, scrape

from ..conftest import ApiFactory, require_binary
from ..load import BackgroundLoad
from ..locustfiles.test_locust import (
    aggregated_row,
    start_distributed,
    start_locust,
    stop_distributed,
    wait_exit,
    wait_for,
    wait_for_samples,
)
from ..prometheus.lab_config import PrometheusServer, loopback_config

BODY_BYTES = 70_010


def requests_made(samples: Samples) -> float:
    """All requests the master counted, over every endpoint."""
    return sum(samples.with_prefix("locust_requests_total").values())


def slow_get(port: int, key: str) -> tuple[int, int]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=15)
    try:
        conn.request("GET", f"/data?key={key}")
        response = conn.getresponse()
        return response.status, len(response.read())
    finally:
        conn.close()


@pytest.mark.slow
def test_sigterm_under_load_lets_in_flight_requests_finish(start_api: ApiFactory) -> None:
    """Expected: every request already received is answered in full, then the API exits without a traceback."""
    api = start_api("lru", "--origin-latency-ms", "1500")  # each miss is in flight for 1.5 s
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = [pool.submit(slow_get, api.port, f"in-flight-{n}") for n in range(8)]
        time.sleep(0.5)  # all 8 are inside the handler, waiting on the origin
        os.kill(api.pid, signal.SIGTERM)
        answers = [f.result() for f in futures]
    assert answers == [(200, BODY_BYTES)] * 8
    code = api.proc.wait(10)
    assert code in (0, -signal.SIGTERM), f"exit code {code}"
    log = api.log_tail(200)
    assert "Traceback" not in log and "ERROR" not in log, log


@pytest.mark.slow
def test_prometheus_and_the_redis_exporter_down_leave_the_api_and_locust_unaffected(
    start_api: ApiFactory, redis_server: RedisServer, tmp_path: Path
) -> None:
    """Expected: the lab's pull-based monitoring is not in any request's path; killing it costs no request."""
    require_binary("prometheus")
    require_binary("prometheus-redis-exporter")
    api = start_api("redis", "--redis-url", redis_server.url, "--origin-latency-ms", "0")
    exporter_port, locust_port = free_port(), free_port()
    exporter = Child(
        "redis-exporter",
        [require("prometheus-redis-exporter"), f"--redis.addr=redis://127.0.0.1:{redis_server.port}",
         f"--web.listen-address=127.0.0.1:{exporter_port}"],
        tmp_path / "exporter.log",
    )  # fmt: skip
    locust = start_locust(
        tmp_path, "locustfile.py",
        "--host", api.url, "-u", "4", "-r", "4", "-t", "8s", "--wait-s", "0.02", "--key-space", "100",
        "--metrics-port", str(locust_port), "StoryUser", "RealisticUser",
    )  # fmt: skip
    prometheus_port = free_port()
    targets = {
        "api": [f"127.0.0.1:{api.port}"],
        "redis": [f"127.0.0.1:{exporter_port}"],
        "locust": [f"127.0.0.1:{locust_port}"],
        "prometheus": [f"127.0.0.1:{prometheus_port}"],
    }
    prometheus: PrometheusServer | None = None
    try:
        prometheus = PrometheusServer(tmp_path / "prometheus", loopback_config(targets), port=prometheus_port)
        wait_for_samples(locust_port, locust.proc, "locust_requests_total")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and len(prometheus.query("up == 1")) < len(targets):
            time.sleep(0.3)
        assert len(prometheus.query("up == 1")) == len(targets), prometheus.query("up")
        for child in (prometheus, exporter):
            os.kill(child.pid, signal.SIGKILL)
            child.stop()
        load = BackgroundLoad(api.port)  # and a client of our own beside Locust
        load.wait_for(100)
        load.stop()
        assert not load.failed()
        assert scrape(api.port).value("leaklab_cache_errors_total") == 0
    finally:
        for child in (prometheus, exporter):
            if child is not None:
                child.stop()
        code = wait_exit(locust, 30)
    assert code == 0, locust.log_tail(40)
    assert int(aggregated_row(tmp_path)["Failure Count"]) == 0


@pytest.mark.slow
def test_a_locust_worker_killed_mid_run_leaves_the_master_running(start_api: ApiFactory, tmp_path: Path) -> None:
    """Expected: the master notices the missing worker, keeps driving load with the other one, keeps
    serving its metrics, and stops by itself at the end of the run."""
    api = start_api("lru", "--origin-latency-ms", "0")
    metrics_port = free_port()
    master, *workers = locusts = start_distributed(
        tmp_path, api.url, 2, "-u", "4", "-r", "4", "-t", "20s", "--wait-s", "0.05", metrics_port=metrics_port
    )
    try:
        samples = wait_for_samples(metrics_port, master.proc, "locust_requests_total", timeout_s=30)
        assert samples.value("locust_workers") == 2
        os.kill(workers[0].pid, signal.SIGKILL)
        # Locust's heartbeat gives a silent worker a few seconds before the master marks it missing
        after_kill = wait_for(metrics_port, master.proc, "the master reporting one worker",
                              lambda s: s.value("locust_workers") == 1)  # fmt: skip
        assert 0 < after_kill.value("locust_users") < 4, "the killed worker's users, and only them, are gone"
        # A worker reports its stats to the master every 3 s (WORKER_REPORT_INTERVAL), so the count
        # moves in steps: wait for the survivor's next report instead of sampling after a fixed time.
        before = requests_made(after_kill)
        later = wait_for(metrics_port, master.proc, f"the surviving worker's requests counted past {before:.0f}",
                         lambda s: requests_made(s) > before)  # fmt: skip
        assert later.value("locust_running") == 1
        assert later.value("locust_workers") == 1
    finally:
        code = stop_distributed(locusts, 60)
    assert code in (0, 1), master.log_tail(40)
    assert "Traceback" not in master.log_tail(200)
