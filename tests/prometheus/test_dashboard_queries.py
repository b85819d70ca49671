"""Every query of the lab dashboard, evaluated by a real Prometheus scraping real processes.

One Prometheus (the repo's config and rules, targets rewritten to loopback, 1 s intervals) scrapes
three ``leaklab api`` processes at once (leaky, lru and redis mode, each in a memory cgroup of its
own with a limit, as in a container), a ``redis-server`` through ``prometheus-redis-exporter`` and a
headless Locust with the repo's exporter. Locust drives the leaky API with the story's traffic; a
thread sends keyed requests to the other two, so they hit, miss and evict. The dashboard's
``$instance`` variable then selects one API at a time, as a user picks it in Grafana.

A fourth API, leaky in a 160 MB cgroup, is driven into its limit: the kernel kills it, the test
restarts it (Compose's ``restart: unless-stopped`` in the lab), and the restart shows where the
dashboard and the alert rules look for it.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from leaklab.lab.limits import CgroupLimit, LimitError
from leaklab.procs import ApiServer, Child, RedisServer, free_port, http_get

from ..conftest import require_binary
from .lab_config import PrometheusServer, PromQLError, loopback_config

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "grafana" / "dashboards" / "leaklab.json"
MODES = ("leaky", "lru", "redis")
API_MEMORY_LIMIT = 256 * 1024 * 1024
CRASH_MEMORY_LIMIT = 160 * 1024 * 1024  # the "crash" API: a leaky one that the test drives into its limit
# Grafana's variables, as Grafana would fill them in for a 1 s scrape interval and a short range.
GRAFANA_VARIABLES = {"$__rate_interval": "5s", "$__interval": "1s", "$__range": "1m"}

# Panels meant for some modes only (their description says so, and they show a text instead of
# "No data" elsewhere); every other panel must return data in every mode.
MEANT_FOR = {
    "Time to the memory limit": {"leaky"},
    "Evictions and cache errors": {"lru", "redis"},
    "Redis memory: used vs maxmemory": {"redis"},
    "Redis evictions, hits and misses": {"redis"},
    "Redis keys": {"redis"},
}
# Targets that draw a bound only some modes have (the leaky cache has none; Redis bounds bytes, not entries).
TARGET_MEANT_FOR = {
    ("Cache entries vs bound", "B"): {"lru"},
    ("Cache bytes vs bound", "B"): {"redis"},
}


@dataclass(frozen=True)
class Query:
    panel: str
    ref: str
    expr: str


def dashboard_queries() -> list[Query]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [
        Query(panel["title"], target["refId"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    queries += [
        Query(f"annotation: {a['name']}", "A", a["expr"]) for a in dashboard["annotations"]["list"] if "expr" in a
    ]
    return queries


def expected_modes(query: Query) -> set[str]:
    if query.panel.startswith("annotation: "):
        return set()  # annotations mark events (a restart, a firing alert): valid queries, data only then
    return TARGET_MEANT_FOR.get((query.panel, query.ref), MEANT_FOR.get(query.panel, set(MODES)))


def substitute(expr: str, instance: str) -> str:
    for name, value in {**GRAFANA_VARIABLES, "$instance": instance}.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unsubstituted Grafana variable in {expr}"
    return expr


@dataclass
class Lab:
    prometheus: PrometheusServer
    apis: dict[str, ApiServer]
    tmp: Path
    crash_limit: CgroupLimit
    cleanup: list[Any]

    def instance(self, mode: str) -> str:
        return f"127.0.0.1:{self.apis[mode].port}"

    def value(self, expr: str) -> float | None:
        result = self.prometheus.query(expr)
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, expr: str, timeout_s: float = 20.0) -> float:
        deadline = time.monotonic() + timeout_s
        while (value := self.value(expr)) is None:
            assert time.monotonic() < deadline, f"no data for {expr} within {timeout_s}s"
            time.sleep(0.5)
        return value


def keyed_traffic(apis: list[ApiServer], stop: threading.Event) -> None:
    """Hot keys that hit and a long tail that misses and evicts (lru bound 50, redis maxmemory 16 MB)."""
    i = 0
    while not stop.is_set():
        key = f"hot-{i % 5}" if i % 2 else f"tail-{i % 400}"
        for api in apis:
            try:
                http_get(api.port, f"/data?key={key}", 5.0)
            except OSError:
                if stop.is_set():
                    return
        i += 1
        stop.wait(0.005)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    for binary in ("prometheus", "redis-server", "prometheus-redis-exporter"):
        require_binary(binary)
    tmp = tmp_path_factory.mktemp("dashboard-lab")
    cleanup: list[Any] = []
    stop = threading.Event()
    try:
        redis = RedisServer(tmp, maxmemory="16mb")
        cleanup.append(redis)
        exporter_port = free_port()
        exporter = Child(
            "prometheus-redis-exporter",
            [
                require_binary("prometheus-redis-exporter"),
                *("-redis.addr", redis.url, "-web.listen-address", f"127.0.0.1:{exporter_port}"),
            ],
            tmp / "redis-exporter.log",
        )
        cleanup.append(exporter)

        apis: dict[str, ApiServer] = {}
        limits: dict[str, CgroupLimit] = {}
        for name in (*MODES, "crash"):
            try:
                limit = CgroupLimit.create(CRASH_MEMORY_LIMIT if name == "crash" else API_MEMORY_LIMIT, f"dash-{name}")
            except LimitError as exc:
                pytest.skip(f"a memory cgroup is needed to give the API a limit like a container's: {exc}")
            cleanup.append(limit)
            limits[name] = limit
            mode = "leaky" if name == "crash" else name
            env = {"LEAKLAB_REDIS_URL": redis.url} if mode == "redis" else {}
            extra = () if name == "crash" else ("--tracemalloc",)
            api = ApiServer(tmp, mode, extra_args=extra, env=env, argv_prefix=limit.argv_prefix(), wait=False)
            cleanup.append(api)  # stopped before its cgroup is removed (cleanup runs in reverse)
            apis[name] = api
        for api in apis.values():
            api.wait_healthy()

        locust_port = free_port()
        locust = Child(
            "locust",
            [
                sys.executable, "-m", "locust", "-f", str(REPO / "locustfiles" / "locustfile.py"), "--headless",
                "--host", apis["leaky"].url, "-u", "4", "-r", "4", "-t", "120s", "--wait-s", "0.1",
                "--metrics-port", str(locust_port), "StoryUser",
            ],
            tmp / "locust.log",
        )  # fmt: skip
        cleanup.append(locust)
        traffic = threading.Thread(target=keyed_traffic, args=([apis["lru"], apis["redis"]], stop), daemon=True)
        traffic.start()

        prometheus_port = free_port()
        config = loopback_config(
            {
                "api": [f"127.0.0.1:{api.port}" for api in apis.values()],
                "redis": [f"127.0.0.1:{exporter_port}"],
                "locust": [f"127.0.0.1:{locust_port}"],
                "prometheus": [f"127.0.0.1:{prometheus_port}"],
            }
        )
        prometheus = PrometheusServer(tmp / "prometheus", config, port=prometheus_port)
        cleanup.append(prometheus)
        yield Lab(prometheus, apis, tmp, limits["crash"], cleanup)
    finally:
        stop.set()
        for item in reversed(cleanup):
            if isinstance(item, CgroupLimit):
                item.close()
            else:
                item.stop()


def evaluate(lab: Lab, mode: str) -> tuple[dict[Query, int], list[str]]:
    """Result sizes of every dashboard query for one mode, and the queries Prometheus rejected."""
    sizes: dict[Query, int] = {}
    errors: list[str] = []
    for query in dashboard_queries():
        try:
            sizes[query] = len(lab.prometheus.query(substitute(query.expr, lab.instance(mode))))
        except PromQLError as exc:
            errors.append(f"{query.panel} [{query.ref}]: {exc}")
    return sizes, errors


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_every_dashboard_query_returns_data_in_the_modes_it_is_meant_for(lab: Lab, mode: str) -> None:
    deadline = time.monotonic() + 45
    while True:
        sizes, errors = evaluate(lab, mode)
        assert not errors, "Prometheus rejected dashboard queries:\n" + "\n".join(errors)
        empty = [q for q, n in sizes.items() if mode in expected_modes(q) and n == 0]
        if not empty or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert not empty, f"{mode} mode: no data for\n" + "\n".join(f"  {q.panel} [{q.ref}]: {q.expr}" for q in empty)


@pytest.mark.slow
def test_the_instance_variable_lists_every_api(lab: Lab) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    (variable,) = dashboard["templating"]["list"]
    definition = variable["definition"]
    assert definition.startswith("label_values(") and definition.endswith(", instance)")
    selector = definition[len("label_values(") : -len(", instance)")]
    values = lab.prometheus.api("label/instance/values", **{"match[]": selector})
    assert {lab.instance(mode) for mode in MODES} <= set(values)


@pytest.mark.slow
def test_leaky_mode_shows_the_leak_and_the_leaking_line(lab: Lab) -> None:
    """What a user looks for first: memory growing, a time to the limit, and the cache write on top."""
    instance = lab.instance("leaky")
    deadline = time.monotonic() + 30
    while True:
        growth = lab.prometheus.query(f'leaklab:cgroup_memory_bytes:deriv2m{{instance="{instance}"}}')
        top = lab.prometheus.query(f'leaklab_alloc_site_share{{instance="{instance}", rank="1"}}')
        if (growth and top and float(growth[0]["value"][1]) > 0) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert growth and float(growth[0]["value"][1]) > 0, "leaky mode: memory is not growing under load"
    assert top, "leaky mode: no allocation sites (tracemalloc off?)"
    assert "cache/leaky.py:" in top[0]["metric"]["site"], f"top allocation site: {top[0]['metric']}"
    bounded = lab.prometheus.query(f'leaklab_cache_entries{{instance="{lab.instance("lru")}"}}')
    assert float(bounded[0]["value"][1]) <= 50


def test_panels_meant_for_some_modes_say_which() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    described = {
        panel["title"]: panel["description"].split("(Meant for ", 1)[1]
        for panel in dashboard["panels"]
        if "(Meant for " in panel.get("description", "")
    }
    assert set(described) == set(MEANT_FOR)
    for title, clause in described.items():
        assert all(mode in clause for mode in MEANT_FOR[title]), f"{title}: {clause}"


@pytest.mark.slow
def test_an_oom_kill_shows_as_a_restart_an_alert_and_an_annotation(lab: Lab) -> None:
    """The story's crash, live: a leaky API in a 160 MB cgroup is driven into its limit, the kernel
    kills it, it is restarted (Compose's job in the lab), and Prometheus sees what the dashboard shows."""
    api = lab.apis["crash"]
    instance = lab.instance("crash")
    first_start = lab.wait_for(f'process_start_time_seconds{{instance="{instance}"}}')
    deadline = time.monotonic() + 60
    while api.alive():
        assert time.monotonic() < deadline, "the leaky API never reached its memory limit"
        try:
            http_get(api.port, "/data", 5.0)
        except OSError:
            time.sleep(0.05)  # the kernel is killing it
    assert api.proc.wait(5) == -9, f"not killed by the kernel (exit {api.proc.returncode}):\n{api.log_tail()}"
    assert (lab.crash_limit.oom_kills() or 0) >= 1

    restarted = ApiServer(lab.tmp, "leaky", port=api.port, argv_prefix=lab.crash_limit.argv_prefix())
    lab.cleanup.append(restarted)  # stopped first: cleanup runs in reverse
    assert lab.wait_for(f'process_start_time_seconds{{instance="{instance}"}} > {first_start}') > first_start
    annotation = next(q for q in dashboard_queries() if q.panel == "annotation: API restart (OOM kill)")
    assert lab.prometheus.query(substitute(annotation.expr, instance)), "Grafana would not mark the restart"
    restarts = next(q for q in dashboard_queries() if q.panel == "Restarts")
    assert lab.value(substitute(restarts.expr, instance)) == 1
    assert lab.wait_for(f'ALERTS{{alertname="ApiRestarted", alertstate="firing", instance="{instance}"}}') == 1
    assert lab.wait_for(f'leaklab_cgroup_oom_kills_total{{instance="{instance}"}}') >= 1
