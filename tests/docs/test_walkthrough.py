"""docs/walkthrough.md names real things: make targets, commands, panels, alerts, metrics and the leaking line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from leaklab.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "walkthrough.md").read_text()
FLAT_GUIDE = " ".join(GUIDE.split())  # quoted titles may wrap across lines
README = (ROOT / "README.md").read_text()

# Dashboard panels and annotations the guide tells the reader to look at, by their titles.
PANELS = [
    "Process memory (RSS) vs the memory limit",
    "Container memory (cgroup)",
    "Leak rate",
    "Time to the memory limit",
    "Restarts",
    "Firing alerts",
    "Cache entries vs bound",
    "Cache hit ratio",
    "Evictions and cache errors",
    "Where the memory is (tracemalloc: top allocation sites by growth)",
    "Redis memory: used vs maxmemory",
    "Redis evictions, hits and misses",
    "Redis keys",
]


def _source_line(relative: str, line: int) -> str:
    return (ROOT / relative).read_text().splitlines()[line - 1]


def test_every_make_target_in_the_guide_exists() -> None:
    targets = set(re.findall(r"^([a-zA-Z_-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))
    mentioned = set(re.findall(r"\bmake ([a-z][a-z-]+)", GUIDE))
    assert mentioned, "the guide names no make target"
    assert mentioned <= targets, f"not in the Makefile: {sorted(mentioned - targets)}"


def test_every_leaklab_command_in_the_guide_exists() -> None:
    mentioned = set(re.findall(r"\bleaklab (run|[a-z]+) --", GUIDE))
    assert {"run", "profile"} <= mentioned
    assert mentioned <= set(COMMANDS), f"not a leaklab command: {sorted(mentioned - set(COMMANDS))}"


def test_the_panels_the_guide_names_are_on_the_dashboard() -> None:
    dashboard = json.loads((ROOT / "grafana" / "dashboards" / "leaklab.json").read_text())
    titles = {panel.get("title") for panel in dashboard["panels"]}
    annotations = {a.get("titleFormat") for a in dashboard["annotations"]["list"]}
    assert dashboard["uid"] == "leaklab" and "uid `leaklab`" in GUIDE
    for title in PANELS:
        assert f'"{title}"' in FLAT_GUIDE
        assert title in titles, f"no dashboard panel titled {title!r}"
    assert '"API restarted"' in GUIDE and "API restarted" in annotations


def test_the_alerts_the_guide_names_exist() -> None:
    rules = (ROOT / "prometheus" / "rules" / "leaklab.yml").read_text()
    defined = set(re.findall(r"- alert: (\w+)", rules))
    mentioned = set(re.findall(r"\*\*(\w+)\*\*", GUIDE)) & set(re.findall(r"\b([A-Z][a-z]+[A-Z]\w+)\b", GUIDE))
    assert {"LeakSuspected", "OomPredicted", "ApiRestarted", "RedisNoMaxmemory"} <= mentioned
    assert mentioned <= defined, f"no such alert: {sorted(mentioned - defined)}"


def test_the_metrics_the_guide_names_exist() -> None:
    source = "".join(p.read_text() for p in (ROOT / "services/api/leaklab_api").rglob("*.py"))
    for name in set(re.findall(r"\b(leaklab_[a-z_]+[a-z])\b", GUIDE)) - {"leaklab_api"}:
        base = name.removesuffix("_total")
        assert f'"{base}' in source, f"the API exports no metric {name}"


@pytest.mark.parametrize("text", [GUIDE, README], ids=["walkthrough", "readme"])
def test_the_leaking_line_quoted_is_the_cache_write(text: str) -> None:
    quoted = set(re.findall(r"services/api/leaklab_api/cache/leaky\.py:(\d+)", text))
    assert quoted
    for line in quoted:
        assert "self._store[key] =" in _source_line("services/api/leaklab_api/cache/leaky.py", int(line))


def test_the_lab_ports_are_the_defaults() -> None:
    env = (ROOT / ".env.example").read_text()
    defaults = [("API_PORT", 8000), ("LOCUST_PORT", 8089), ("GRAFANA_PORT", 3000), ("PROMETHEUS_PORT", 9090)]
    for variable, port in defaults:
        assert f"{variable}={port}" in env
        assert f"http://127.0.0.1:{port}" in GUIDE


def test_the_readme_links_the_walkthrough() -> None:
    assert "## Finding the leaking line" in README
    assert "(docs/walkthrough.md)" in README
