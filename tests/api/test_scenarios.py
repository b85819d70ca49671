"""The leak catalogue on a real ``leaklab api`` under load: each scenario leaks where its docstring says.

Every Python-object scenario grows by about one payload per request, tracemalloc's top site is the
scenario's leaking line with most of the growth, and the fixed variant stays bounded once warm.
``native`` grows RSS while traced memory stays flat; ``metric-labels`` grows a series per request.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from leaklab.scrape import scrape

from ..conftest import ApiFactory
from .helpers import Client

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "services/api/leaklab_api/scenarios"
BODY_BYTES = 70_010
MIB = 1024 * 1024
WARM_UP = 60
REQUESTS = 250
SNAPSHOT_TIMEOUT_S = 60.0  # a snapshot of a busy traced process can take seconds on a loaded machine

# scenario -> (module, a fragment of the line that allocates what leaks)
LEAKING_LINES = {
    "memoize": ("memoize.py", 'return key.encode().ljust(size_bytes, b"x")'),
    "listeners": ("listeners.py", "snapshot = memoryview(body).tobytes()"),
    "request-log": ("request_log.py", "self.recent.append("),
    "tasks": ("tasks.py", "payload = memoryview(body).tobytes()"),
    "exceptions": ("exceptions.py", "document = memoryview(body).tobytes()"),
}


def site_of(module: str, fragment: str) -> str:
    lines = (SCENARIOS / module).read_text().splitlines()
    number = [i for i, line in enumerate(lines, start=1) if fragment in line][-1]  # code, not docstring
    return f"services/api/leaklab_api/scenarios/{module}:{number}"


def traced_api(start_api: ApiFactory, scenario: str, *flags: str, frames: int = 1) -> Client:
    """An API running ``scenario``; one frame per allocation is enough (and fast) unless a caller is wanted."""
    args = ("--scenario", scenario, *flags, "--tracemalloc", "--origin-latency-ms", "0")
    api = start_api("lru", *args, env={"LEAKLAB_TRACEMALLOC_FRAMES": str(frames)})
    return Client(api.port, timeout_s=SNAPSHOT_TIMEOUT_S)


def growth_after(client: Client, requests: int) -> dict[str, Any]:
    """/debug/memory after ``requests`` keyless requests, counted from a baseline set after a warm-up."""
    client.hammer(WARM_UP)
    assert client.json("POST", "/debug/memory/baseline")[0] == 200
    client.hammer(requests)
    status, report = client.json("GET", "/debug/memory")
    assert status == 200 and report["tracing"] is True
    return report


@pytest.mark.parametrize("scenario", sorted(LEAKING_LINES))
def test_python_object_scenario_leaks_on_its_line(scenario: str, start_api: ApiFactory) -> None:
    report = growth_after(traced_api(start_api, scenario), REQUESTS)
    expected = REQUESTS * BODY_BYTES
    top = report["sites"][0]
    assert top["site"] == site_of(*LEAKING_LINES[scenario]), report["sites"][:3]
    assert top["share"] >= 0.8, report["sites"][:3]
    assert top["growth_bytes"] >= expected * 0.95
    # memory a user watches grows with the traffic too, not only tracemalloc's count
    assert report["traced_growth_bytes"] >= expected * 0.95
    assert report["rss_growth_bytes"] >= expected * 0.75, report


@pytest.mark.parametrize("scenario", sorted(LEAKING_LINES))
def test_fixed_scenario_stays_bounded_once_warm(scenario: str, start_api: ApiFactory) -> None:
    client = traced_api(start_api, scenario, "--fixed")
    client.hammer(WARM_UP)  # fills the fixes' bounds (50 entries) and the LRU
    report = growth_after(client, REQUESTS)

    def bounded(report: dict[str, Any]) -> bool:
        # the leaky variant adds REQUESTS payloads (~17 MiB); the fix adds under a tenth of that
        return report["traced_growth_bytes"] < REQUESTS * BODY_BYTES * 0.1 and all(
            site["growth_bytes"] < 20 * BODY_BYTES for site in report["sites"]
        )

    # a fix may hold the last moment's work a little longer (tasks: each delivery ends within its timeout)
    deadline = time.monotonic() + 10
    while not bounded(report) and time.monotonic() < deadline:
        time.sleep(0.2)
        report = client.json("GET", "/debug/memory")[1]
    assert bounded(report), (report["traced_growth_bytes"], report["sites"][:3])


def test_native_scenario_grows_rss_that_tracemalloc_cannot_see(start_api: ApiFactory) -> None:
    requests = 400  # ~27 MiB of malloc'd buffers
    report = growth_after(traced_api(start_api, "native"), requests)
    assert report["rss_growth_bytes"] >= requests * BODY_BYTES * 0.75, report
    assert report["traced_growth_bytes"] < report["rss_growth_bytes"] * 0.1, report
    # (the cgroup's growth is not asserted: a test API shares its cgroup with the rest of the machine)


def test_native_scenario_fixed_frees_its_buffers(start_api: ApiFactory) -> None:
    client = traced_api(start_api, "native", "--fixed")
    client.hammer(WARM_UP)
    report = growth_after(client, 400)
    assert report["rss_growth_bytes"] < 4 * MIB, report


def lookup_series(client: Client) -> int:
    """Label sets of the scenario's histogram (each is a dozen series: buckets, count, sum, created)."""
    return len(scrape(client.port).with_prefix("leaklab_scenario_response_size_bytes_count"))


@pytest.mark.parametrize("fixed", [False, True], ids=["leaky", "fixed"])
def test_metric_labels_grow_a_series_per_request(fixed: bool, start_api: ApiFactory) -> None:
    api = start_api("lru", "--scenario", "metric-labels", *(["--fixed"] if fixed else []), "--origin-latency-ms", "0")
    client = Client(api.port)
    client.hammer(10)
    before = lookup_series(client)
    client.hammer(300)
    added = lookup_series(client) - before
    if fixed:
        assert before == 1 and added == 0  # one series: the route template
    else:
        assert added == 300
        assert (
            scrape(client.port).value(
                "leaklab_info", mode="lru", version="0.1.0", scenario="metric-labels", fixed="false"
            )
            == 1
        )


def test_metric_labels_diagnosis_names_the_call_in_our_code(start_api: ApiFactory) -> None:
    # the default frames per allocation (5) reach from prometheus-client's lines back to ours
    api = start_api("lru", "--scenario", "metric-labels", "--tracemalloc", "--origin-latency-ms", "0")
    report = growth_after(Client(api.port, timeout_s=SNAPSHOT_TIMEOUT_S), 300)
    call = site_of("metric_labels.py", "self.sizes.labels(")
    top = report["sites"][:3]
    # the memory is allocated inside prometheus-client; the caller frame names the scenario's line
    assert top[0]["site"].startswith("site-packages/prometheus_client/"), top
    assert top[0]["caller"] is not None and top[0]["caller"].startswith(call), top
    # a caller is named only when it explains the site: never a wrong one of ours
    assert all(call in site["caller"] for site in top if site["caller"]), top
