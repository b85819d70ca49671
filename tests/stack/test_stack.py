"""The Compose lab started for real through its make targets, and what a user then sees.

Runs on the Docker engine that is there, or on one it starts (tests/stack/engine.py), with the
pinned images or, where none can be pulled, stand-ins built from Debian packages
(tests/stack/standins.py). Grafana has no stand-in: without its image it is left out (LAB_SERVICES)
and its dashboard is checked statically (tests/grafana/) and, here, query by query against the
stack's Prometheus. The tests run in order, as a user goes: a bad setting, the leak to its OOM
kill, the Redis fix, the LRU fix, and the teardown.

To keep the run short, .env uses documented knobs a user could set too: a 160 MiB memory limit,
30 Locust users, a 16 MiB Redis. The defaults keep the leak watchable over minutes.
"""

from __future__ import annotations

import re
import stat
import time
import urllib.request

import pytest

from leaklab.soak.criteria import REDIS_SLACK_BYTES
from tests.prometheus.test_dashboard_queries import dashboard_queries

from . import conftest
from .conftest import FIGURES
from .lab import Lab, compose_services, http_json, wait_until

pytestmark = pytest.mark.slow
KNOBS = {"API_MEMORY_LIMIT": "160m", "LOCUST_USERS": 30, "LOCUST_SPAWN_RATE": 10, "REDIS_MAXMEMORY": "16mb"}
MIB = 1024 * 1024  # the lab's one unit (leaklab/units.py)
WINDOW_S = 15  # a fixed mode's measured window: leaky mode would grow ~50 MiB in it at this load


def rss_mib(lab: Lab) -> float:
    value = lab.value('max(process_resident_memory_bytes{job="api"})')
    assert value is not None, "Prometheus has no RSS of the API"
    return value / MIB


def assert_all_healthy(lab: Lab) -> None:
    containers = lab.containers()
    assert {c["Config"]["Labels"]["com.docker.compose.service"] for c in containers} == set(lab.services)
    for c in containers:
        name, state = c["Name"], c["State"]
        assert state["Running"], f"{name} is {state['Status']}"
        if "Health" in state:
            assert state["Health"]["Status"] == "healthy", f"{name}: {state['Health']['Status']}"


def test_without_env_status_and_down_work_and_env_is_private(lab: Lab) -> None:
    for target in ("lab-status", "lab-down"):
        result = lab.make(target, timeout_s=120)
        assert result.returncode == 0, f"make {target} without .env:\n{result.stdout}{result.stderr}"
    result = lab.make("lab-env")
    assert result.returncode == 0, result.stdout + result.stderr
    assert stat.S_IMODE((lab.workdir / ".env").stat().st_mode) == 0o600


def test_a_bad_setting_names_the_failing_service_and_its_error(lab: Lab) -> None:
    lab.write_env(**KNOBS, LEAKLAB_PAYLOAD_ITEMS=0)
    started = time.monotonic()
    result = lab.make("lab-leaky", "LAB_WAIT_TIMEOUT=25")  # the API crash-loops within seconds of Redis' health
    FIGURES["first make lab-leaky (builds both images, then a crash loop), s"] = round(time.monotonic() - started)
    assert result.returncode != 0, "the API cannot start with LEAKLAB_PAYLOAD_ITEMS=0, yet make succeeded"
    assert "lab: api is" in result.stdout, result.stdout[-3000:]
    assert "LEAKLAB_PAYLOAD_ITEMS" in result.stdout, "the user must see the line that names the bad setting"


def test_leaky_mode_reaches_the_limit_is_killed_restarted_and_shows_where_the_memory_is(lab: Lab) -> None:
    lab.write_env(**KNOBS)
    started = time.monotonic()
    result = lab.make("lab-leaky")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    FIGURES["time to healthy (make lab-leaky, images built), s"] = round(time.monotonic() - started)
    assert_all_healthy(lab)
    assert f"http://127.0.0.1:{lab.ports['LOCUST_PORT']}" in result.stdout

    # Hardening, as docker inspect reports it.
    for c in lab.containers():
        name, host = c["Name"], c["HostConfig"]
        assert c["Config"]["User"] not in ("", "root", "0", "0:0"), f"{name} runs as root"
        assert host["ReadonlyRootfs"], f"{name}: writable root filesystem"
        assert host["CapDrop"] == ["ALL"], f"{name}: capabilities {host['CapDrop']}"
        assert "no-new-privileges:true" in (host["SecurityOpt"] or []), f"{name} may gain privileges"

    # Press Start once the UI lists the workers (they connect a few seconds after the master is healthy):
    # the web UI posts its form with the defaults filled in from .env. On a busy machine a worker can
    # miss its first heartbeats and the master stops the run; a user then presses Start again.
    api = lab.container("api")
    workers, users = int(lab.env_value("LOCUST_WORKERS")), int(lab.env_value("LOCUST_USERS"))
    wait_until("Locust workers connected", lambda: lab.locust_stats()["worker_count"] >= workers, 90)
    form = {
        "user_count": str(users),
        "spawn_rate": lab.env_value("LOCUST_SPAWN_RATE"),
        "host": compose_services()["locust"]["environment"]["LOCUST_HOST"],
    }
    presses = 0
    for _ in range(3):
        presses += 1
        swarm = http_json(lab.url("LOCUST_PORT", "/swarm"), form)
        assert swarm["success"], swarm
        try:
            wait_until("Locust running all users", lambda: lab.locust_stats()["user_count"] >= users, 30, 1)
            break
        except AssertionError:
            wait_until("workers ready again", lambda: lab.locust_stats()["worker_count"] >= workers, 60)
    else:
        raise AssertionError(f"Locust did not start the users: {lab.locust_stats()['state']}")
    FIGURES["Locust Start presses needed"] = presses
    start = time.monotonic()

    # "Where the memory is", as the dashboard's table reads it: the alloc-site metric (tracemalloc's top
    # sites by growth, computed at scrape time; /debug/memory serves the same table).
    wait_until("the leak under way (RSS > 90 MiB)", lambda: rss_mib(lab) > 90, 180)
    top = wait_until("an allocation site", lambda: lab.prometheus('topk(1, leaklab_alloc_site_share{job="api"})'), 60)
    site, share = top[0]["metric"]["site"], float(top[0]["value"][1])
    assert site.endswith("cache/leaky.py:24") and share > 0.5, (site, share)
    FIGURES["leaky: top allocation site, share of growth"] = f"{site} {share:.0%}"

    def restarted() -> bool:
        state = lab.container("api")
        return state["RestartCount"] >= 1

    wait_until("the API OOM-killed and restarted", restarted, 300, 1)
    FIGURES["time to first OOM kill after Start, s"] = round(time.monotonic() - start)
    events = lab.engine.docker(
        "events", "--since", api["Created"], "--until", str(int(time.time())), "--filter", f"container={api['Id']}"
    )
    assert " oom " in events.stdout or lab.container("api")["State"]["OOMKilled"], events.stdout[-2000:]
    limit = lab.container("api")["HostConfig"]["Memory"]
    assert limit == 160 * 1024 * 1024

    wait_until(
        "Prometheus sees the new process",
        lambda: lab.value('changes(process_start_time_seconds{job="api"}[10m]) > 0'),
        90,
    )
    wait_until("ApiRestarted fires", lambda: lab.prometheus('ALERTS{alertname="ApiRestarted",alertstate="firing"}'), 90)
    wait_until("Locust counts failed requests", lambda: lab.locust_failures() > 0, 60)
    FIGURES["leaky: Locust failures after the OOM kill"] = lab.locust_failures()
    FIGURES["leaky: memory limit, MiB"] = round(limit / MIB)
    FIGURES["leaky: RSS right after the restart, MiB"] = round(rss_mib(lab))


def test_every_dashboard_query_runs_against_the_stacks_prometheus(lab: Lab) -> None:
    for query in dashboard_queries():
        expr = query.expr
        for name, value in {
            "$__rate_interval": "20s",
            "$__interval": "5s",
            "$__range": "5m",
            "$instance": ".+",
        }.items():
            expr = expr.replace(name, value)
        assert "$" not in expr, expr
        lab.prometheus(expr)  # raises on a query Prometheus rejects


def fixed_mode_holds(lab: Lab, mode: str, target: str) -> None:
    before = {c["Config"]["Labels"]["com.docker.compose.service"]: c["Id"] for c in lab.containers()}
    result = lab.make(target)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    after = {c["Config"]["Labels"]["com.docker.compose.service"]: c["Id"] for c in lab.containers()}
    recreated = {name for name in after if after[name] != before.get(name)}
    assert recreated == {"api"}, f"make {target} recreated {sorted(recreated)}"
    assert_all_healthy(lab)
    wait_until(f"{mode} mode in Prometheus", lambda: lab.prometheus(f'leaklab_info{{job="api",mode="{mode}"}}'), 60)

    # Warm-up: the cache fills its bound and starts evicting; then the run is measured from a clean slate.
    # The API's own counter (redis mode: Redis' evicted_keys), read from the process running now.
    def evicted() -> float:
        return lab.api_metric("leaklab_cache_evictions_total")

    wait_until(f"{mode}: evictions start", lambda: evicted() > 0, 120)
    urllib.request.urlopen(lab.url("LOCUST_PORT", "/stats/reset"), data=b"", timeout=10).close()  # "Reset stats"
    errors_before = lab.api_metric("leaklab_cache_errors_total")
    evicted_before = evicted()
    rss = [rss_mib(lab)]
    redis_used: list[float] = []
    for _ in range(WINDOW_S // 5):
        time.sleep(5)
        rss.append(rss_mib(lab))
        if mode == "redis":
            redis_used.append(lab.value("redis_memory_used_bytes") or 0)
    requests = lab.locust_stats()
    total = sum(s["num_requests"] for s in requests["stats"] if s["name"] == "Aggregated")
    assert total > 200, f"{mode}: Locust sent only {total} requests in the measured window"
    assert lab.locust_failures() == 0, f"{mode}: Locust failures {requests['errors']}"
    assert evicted() > evicted_before, f"{mode}: no evictions while the load ran"
    # Leaky mode grows ~50 MiB in such a window at this load; a bounded cache stays within a few MiB.
    settled = rss[len(rss) // 3 :]  # the first samples may still see the bound filling after the recreate
    assert max(settled) - settled[0] < 10, f"{mode}: RSS grew {rss}"
    FIGURES[f"{mode}: RSS over {WINDOW_S} s after warm-up, MiB"] = f"{min(rss):.0f}-{max(rss):.0f}"
    FIGURES[f"{mode}: requests / failures in the window"] = f"{total} / 0"
    FIGURES[f"{mode}: evictions in the window"] = round(evicted() - evicted_before)
    if mode == "redis":
        maxmemory = lab.value("redis_memory_max_bytes")
        assert maxmemory == 16 * 1024 * 1024
        # at maxmemory, allowing Redis' own bookkeeping between evictions (the soak's rule): less than one
        # payload, so an entry kept past the bound still fails
        over = max(redis_used) - maxmemory
        assert over <= REDIS_SLACK_BYTES, f"used_memory {max(redis_used):.0f}: {over:.0f} B over {maxmemory:.0f}"
        FIGURES["redis: used_memory max / maxmemory, MiB"] = f"{max(redis_used) / MIB:.1f} / {maxmemory / MIB:.1f}"
    cache_errors = lab.api_metric("leaklab_cache_errors_total") - errors_before
    FIGURES[f"{mode}: cache errors in the window"] = round(cache_errors)
    assert cache_errors == 0, f"{mode}: {cache_errors:.0f} cache errors"


def test_fixed_mode_redis_keeps_memory_flat_with_zero_failures(lab: Lab) -> None:
    fixed_mode_holds(lab, "redis", "lab-fixed")


def test_lru_mode_keeps_memory_flat_with_zero_failures(lab: Lab) -> None:
    fixed_mode_holds(lab, "lru", "lab-lru")


def test_lab_down_leaves_nothing_of_the_project(lab: Lab) -> None:
    status = lab.make("lab-status", timeout_s=120)
    assert status.returncode == 0 and re.search(r"\bapi\b.*\bUp\b", status.stdout), status.stdout
    (lab.workdir / ".env").unlink()  # a user who removed .env must still be able to stop the lab
    result = lab.make("lab-down", timeout_s=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert lab.leftovers() == {"containers": [], "networks": [], "volumes": []}
    FIGURES["stack test total (engine, images and every mode), s"] = round(time.monotonic() - conftest.ENGINE_STARTED)
