"""The locustfiles against a real API: zero failures, the ramp stops by itself, and the Locust series
the dashboard reads are served on ``--metrics-port``."""

from __future__ import annotations

import contextlib
import csv
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from leaklab.procs import Child, free_port
from leaklab.scrape import Samples, sample_key, scrape

from ..conftest import ApiFactory

LOCUSTFILES = Path(__file__).resolve().parents[2] / "locustfiles"
DASHBOARD_SERIES = ("locust_users", "locust_workers", "locust_running", "locust_current_rps")


def start_locust(
    tmp_path: Path, files: str, *args: str, name: str = "locust", env: dict[str, str] | None = None
) -> Child:
    paths = ",".join(str(LOCUSTFILES / file) for file in files.split(","))
    argv = [sys.executable, "-m", "locust", "-f", paths, *args]
    if "--worker" not in args:
        argv += ["--headless", "--csv", str(tmp_path / "stats")]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("LOCUST_")} | (env or {})
    return Child(name, argv, tmp_path / f"{name}.log", full_env)


def start_distributed(tmp_path: Path, host: str, workers: int, *args: str, metrics_port: int) -> list[Child]:
    """As in compose.yaml: a master that runs no users itself and serves its workers' aggregated stats on
    ``metrics_port``, then ``workers`` workers; user classes from ``LOCUST_USER_CLASSES``. Master first."""
    master_port = free_port()
    env = {"LOCUST_USER_CLASSES": "StoryUser"}
    master = start_locust(
        tmp_path, "locustfile.py",
        "--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port),
        "--expect-workers", str(workers), "--host", host, *args, "--metrics-port", str(metrics_port),
        name="master", env=env,
    )  # fmt: skip
    worker_args = ("--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port))
    return [master] + [
        start_locust(tmp_path, "locustfile.py", *worker_args, name=f"worker-{n}", env=env) for n in range(workers)
    ]


def stop_distributed(locusts: list[Child], timeout_s: float = 20.0) -> int:
    """The master's exit code once it stops by itself; its workers follow it (or are stopped by PID)."""
    master, *workers = locusts
    try:
        return wait_exit(master, timeout_s)
    finally:
        for worker in workers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.proc.wait(10)
            worker.stop()


def wait_for_samples(port: int, proc: subprocess.Popen[bytes], until: str, timeout_s: float = 15.0) -> Samples:
    """Scrape the Locust metrics endpoint until ``until`` has a positive value."""
    deadline = time.monotonic() + timeout_s
    samples = Samples()
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            samples = scrape(port)
        except OSError:
            samples = Samples()
        if any(v > 0 for v in samples.with_prefix(until).values()):
            return samples
        time.sleep(0.2)
    raise AssertionError(f"no {until} > 0 on :{port} within {timeout_s}s; last scrape: {dict(samples)}")


def wait_for(port: int, proc: subprocess.Popen[bytes], what: str, ready: Callable[[Samples], bool]) -> Samples:
    """Scrape the Locust metrics endpoint until ``ready`` holds for a scrape (Locust still running)."""
    deadline = time.monotonic() + 20
    samples = Samples()
    while time.monotonic() < deadline and proc.poll() is None:
        with contextlib.suppress(OSError):
            samples = scrape(port)
            if ready(samples):
                return samples
        time.sleep(0.2)
    raise AssertionError(f"{what}: not seen on :{port} within 20 s; last scrape: {dict(samples)}")


def wait_exit(locust: Child, timeout_s: float = 20.0) -> int:
    """Locust's exit code once it stops by itself (run time or shape over); stopped by PID otherwise."""
    try:
        return locust.proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"locust did not stop by itself within {timeout_s}s") from None
    finally:
        locust.stop()


def aggregated_row(tmp_path: Path) -> dict[str, str]:
    with (tmp_path / "stats_stats.csv").open() as f:
        return next(row for row in csv.DictReader(f) if row["Name"] == "Aggregated")


@pytest.mark.slow
def test_story_and_realistic_users_run_without_failures_and_feed_prometheus(
    start_api: ApiFactory, tmp_path: Path
) -> None:
    api = start_api("lru")
    port = free_port()
    locust = start_locust(
        tmp_path, "locustfile.py",
        "--host", api.url, "-u", "4", "-r", "4", "-t", "6s", "--wait-s", "0.05", "--key-space", "100",
        "--metrics-port", str(port), "StoryUser", "RealisticUser",
    )  # fmt: skip
    try:
        samples = wait_for(
            port,
            locust.proc,
            "requests from both user classes, and their percentiles",
            lambda s: (
                all(
                    s.get(sample_key("locust_requests_total", {"method": "GET", "name": name}), 0) > 0
                    for name in ("/data (fresh key)", "/data?key=[zipf]")
                )
                and s.value("locust_response_time_seconds", -1.0, quantile="0.99") > 0
            ),
        )
    finally:
        code = wait_exit(locust)
    assert code == 0, locust.log_tail(40)

    for name in DASHBOARD_SERIES:
        assert name in samples, f"{name} missing from the Locust metrics"
    assert samples.value("locust_users") == 4
    assert samples.value("locust_running") == 1
    fresh = samples.get(sample_key("locust_requests_total", {"method": "GET", "name": "/data (fresh key)"}), 0)
    keyed = samples.get(sample_key("locust_requests_total", {"method": "GET", "name": "/data?key=[zipf]"}), 0)
    assert fresh > 0 and keyed > 0
    failures = samples.with_prefix("locust_failures_total")
    assert failures and sum(failures.values()) == 0  # the series is there, and says none failed
    for quantile in ("0.5", "0.95", "0.99"):
        seconds = samples.value("locust_response_time_seconds", -1.0, quantile=quantile)
        assert 0 < seconds < 5, f"p{quantile} = {seconds}"

    row = aggregated_row(tmp_path)
    assert int(row["Request Count"]) > 20
    assert int(row["Failure Count"]) == 0


@pytest.mark.slow
def test_ramp_shape_grows_users_then_stops_by_itself(start_api: ApiFactory, tmp_path: Path) -> None:
    api = start_api("lru")
    port = free_port()
    started = time.monotonic()
    locust = start_locust(
        tmp_path, "locustfile.py,ramp.py",
        "--host", api.url, "--ramp-users", "3", "--ramp-up-s", "1.5", "--ramp-hold-s", "1.5",
        "--wait-s", "0.1", "--metrics-port", str(port), "StoryUser",
    )  # fmt: skip
    peak = 0.0
    try:
        while locust.alive() and time.monotonic() - started < 20:
            with contextlib.suppress(OSError):
                peak = max(peak, scrape(port, 0.5).value("locust_users"))
            time.sleep(0.2)
    finally:
        code = wait_exit(locust)
    assert code == 0, locust.log_tail(40)
    assert peak == 3
    assert time.monotonic() - started < 20, "the ramp did not stop by itself"
    assert int(aggregated_row(tmp_path)["Failure Count"]) == 0


@pytest.mark.slow
def test_distributed_like_compose_the_master_serves_the_workers_stats(start_api: ApiFactory, tmp_path: Path) -> None:
    """As in compose.yaml: user classes from LOCUST_USER_CLASSES, a master that runs no users itself and
    serves the aggregated stats of its worker to Prometheus."""
    api = start_api("lru")
    port = free_port()
    master, *_ = locusts = start_distributed(
        tmp_path, api.url, 1, "-u", "3", "-r", "3", "-t", "5s", "--wait-s", "0.05", metrics_port=port
    )
    try:
        samples = wait_for(
            port,
            master.proc,
            "every user spawned on the worker, and its requests",
            lambda s: s.value("locust_users", 0) == 3 and sum(s.with_prefix("locust_requests_total").values()) > 0,
        )
    finally:
        code = stop_distributed(locusts)
    assert code == 0, master.log_tail(40)
    assert samples.value("locust_workers") == 1
    assert samples.value("locust_users") == 3
    requests = samples.with_prefix("locust_requests_total")
    assert list(requests) == [sample_key("locust_requests_total", {"method": "GET", "name": "/data (fresh key)"})]
    failures = samples.with_prefix("locust_failures_total")
    assert failures and sum(failures.values()) == 0  # the series is there, and says none failed
