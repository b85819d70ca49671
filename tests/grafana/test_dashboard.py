"""The lab dashboard and Grafana provisioning, checked as far as static checks go (no Grafana here).

Its queries are evaluated against a live Prometheus in tests/prometheus/test_dashboard_queries.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
GRAFANA = REPO / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "prometheus.yml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "leaklab.yml"
COMPOSE = REPO / "compose.yaml"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def walk(node: Any) -> Any:
    """Every dict inside ``node``, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def provisioned_datasource_uids() -> set[str]:
    return {ds["uid"] for ds in yaml.safe_load(DATASOURCES.read_text())["datasources"]}


def grafana_service() -> dict[str, Any]:
    service: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]["grafana"]
    return service


def test_datasource_is_prometheus_with_a_fixed_uid_on_the_compose_service() -> None:
    (datasource,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert datasource["uid"] == "prometheus"
    assert datasource["type"] == "prometheus"
    assert datasource["url"] == "http://prometheus:9090"  # the Compose service, never localhost
    assert datasource["isDefault"] is True


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_is_provisionable(path: Path) -> None:
    text = path.read_text()
    dashboard = load(path)
    assert dashboard["uid"] == path.stem == "leaklab"
    assert dashboard.get("id") is None, "exported dashboard ids break provisioning"
    assert "${DS_" not in text and "__inputs" not in dashboard, "datasource inputs are never resolved by provisioning"
    uids = provisioned_datasource_uids()
    refs = [node["datasource"] for node in walk(dashboard) if isinstance(node.get("datasource"), dict)]
    assert refs
    for ref in refs:
        if ref.get("type") == "grafana":
            continue  # the built-in annotations
        assert ref == {"type": "prometheus", "uid": "prometheus"} and ref["uid"] in uids
    for node in walk(dashboard):
        assert not isinstance(node.get("datasource"), str), f"datasource by name, not uid: {node.get('title')}"


def test_panels_are_laid_out_in_24_columns_without_overlap() -> None:
    (dashboard,) = map(load, DASHBOARDS)
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps another panel"
                cells.add((x, y))


def test_every_panel_explains_itself_and_mode_specific_ones_say_so() -> None:
    (dashboard,) = map(load, DASHBOARDS)
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            continue
        assert len(panel.get("description", "")) > 40, f"{panel['title']}: no description"
        assert panel["targets"], f"{panel['title']}: no query"
        if "(Meant for" in panel["description"]:
            assert panel["fieldConfig"]["defaults"].get("noValue"), f"{panel['title']} would show 'No data'"


def test_dashboard_has_the_panels_the_lab_needs() -> None:
    (dashboard,) = map(load, DASHBOARDS)
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    needed = [
        "process_resident_memory_bytes", "leaklab_cgroup_memory_bytes", "leaklab_cgroup_memory_limit_bytes",
        "leaklab:process_resident_memory_bytes:deriv2m", "leaklab:cgroup_memory_limit_eta_seconds",
        "process_start_time_seconds", "leaklab_cache_entries", "leaklab_cache_bytes", "leaklab_cache_hits_total",
        "leaklab_cache_evictions_total", "redis_memory_used_bytes", "redis_memory_max_bytes",
        "redis_evicted_keys_total", "http_requests_total", "http_request_duration_highr_seconds_bucket",
        "locust_users", "locust_requests_total", "locust_failures_total", "locust_response_time_seconds",
        "leaklab_info", "leaklab_alloc_site_share", "leaklab_alloc_site_growth_bytes",
    ]  # fmt: skip
    missing = [name for name in needed if name not in exprs]
    assert not missing, f"no panel reads {missing}"
    tables = [p for p in dashboard["panels"] if p["type"] == "table"]
    assert any("leaklab_alloc_site_share" in t["expr"] for p in tables for t in p["targets"])
    annotations = [a.get("target", {}).get("expr", "") for a in dashboard["annotations"]["list"]]
    assert any("process_start_time_seconds" in expr for expr in annotations), "restarts are not annotated"


def test_recording_rules_the_dashboard_reads_exist() -> None:
    (dashboard,) = map(load, DASHBOARDS)
    rules = {
        rule["record"]
        for path in (REPO / "prometheus" / "rules").glob("*.yml")
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))
    used = set(re.findall(r"\b[a-z_]+:[a-z_:0-9]+\b", exprs))
    assert used and used <= rules, f"recording rules missing: {sorted(used - rules)}"


def test_grafana_service_provisions_the_dashboard_as_an_anonymous_read_only_home_page() -> None:
    service = grafana_service()
    env = service["environment"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"] if volume.startswith("./")}
    provider = yaml.safe_load(PROVIDERS.read_text())["providers"][0]
    dashboards_dir = provider["options"]["path"]
    assert mounts[dashboards_dir] == "./grafana/dashboards"
    assert mounts["/etc/grafana/provisioning/dashboards"] == "./grafana/provisioning/dashboards"
    assert mounts["/etc/grafana/provisioning/datasources"] == "./grafana/provisioning/datasources"
    assert env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"] == f"{dashboards_dir}/leaklab.json"
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert env["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    assert provider["allowUiUpdates"] is False
    # The admin password must come from the environment, with no default to fall back on.
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:\?[^}]+\}", env["GF_SECURITY_ADMIN_PASSWORD"])


def test_prometheus_annotations_use_grafana_12s_target_form() -> None:
    (dashboard,) = map(load, DASHBOARDS)
    queries = [a for a in dashboard["annotations"]["list"] if a["datasource"]["type"] == "prometheus"]
    assert len(queries) >= 2
    for annotation in queries:
        # Grafana 12 moved expr/step into a query target; the old top-level fields are not read.
        assert "expr" not in annotation and "step" not in annotation, annotation["name"]
        target = annotation["target"]
        assert target["expr"] and target["refId"], annotation["name"]


def test_no_port_is_written_into_the_dashboard() -> None:
    (dashboard,) = map(load, DASHBOARDS)
    texts = [link["url"] for link in dashboard["links"]]
    texts += [
        str(node.get(key, "")) for node in walk(dashboard) for key in ("description", "noValue", "content", "url")
    ]
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for text in texts:
        # .env can change every published port: a port is a dashboard variable, never a literal.
        assert not re.search(r"(127\.0\.0\.1|localhost):\d", text), text
        for name in re.findall(r"\$\{(\w+)\}", text):
            assert name in variables, f"{text}: no dashboard variable {name}"
    assert {"locust_port", "prometheus_port"} <= variables
