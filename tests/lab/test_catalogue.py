"""``leaklab compare --scenarios``: every catalogue scenario leaky and fixed in one short run, classified.

Short real runs (real API processes in memory cgroups, real Locust): each leaky scenario is *leaking*
with the right class (python objects, named by the scenario's own module; or native memory, which
tracemalloc cannot see), and each fixed one is *bounded*. ``metric-labels`` grows a histogram, not a
payload, per request, too little for the memory rule in a run this short: it is called leaking because
its ``/metrics`` series count climbs with the traffic (a label leak), while its fix's stays flat.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from ..side_by_side import side_by_side

SCENARIOS = ("memoize", "listeners", "request-log", "tasks", "exceptions", "native", "metric-labels")


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The catalogue in two ``leaklab compare --scenarios`` runs side by side (each run is 20 s of load, one
    mode after another: two halves take half the time), merged as one: runs, report pages and terminals."""
    root = tmp_path_factory.mktemp("catalogue")
    halves = {root / "first": SCENARIOS[:4], root / "second": SCENARIOS[4:]}
    argv = [sys.executable, "-m", "leaklab.cli", "compare", "--duration", "20s", "--wait-s", "0.02"]
    argv += ["--mem-limit", "320M"]
    done = side_by_side({str(out): [*argv, "--scenarios", ",".join(part), "--out", str(out)]
                         for out, part in halves.items()}, timeout_s=900)  # fmt: skip
    merged: dict[str, Any] = {"modes": {}, "_html": "", "_stderr": ""}
    for out in halves:
        result = done[str(out)]
        assert result.returncode == 0, result.stderr[-3000:]
        summary = json.loads((out / "summary.json").read_text())
        merged["modes"] |= summary["modes"]
        merged["thresholds"] = summary["thresholds"]
        merged["_html"] += (out / "report.html").read_text()
        merged["_stderr"] += result.stderr
    return merged


@pytest.mark.slow
def test_every_scenario_is_classified_leaky_and_fixed(catalogue: dict[str, Any]) -> None:
    runs = catalogue["modes"]
    assert list(runs) == [name for s in SCENARIOS for name in (s, f"{s}-fixed")]
    for scenario in SCENARIOS:
        leaky, fixed = runs[scenario], runs[f"{scenario}-fixed"]
        assert leaky["verdict"] == "leaking", (scenario, leaky["leak_rate_mib_per_min"], leaky["fit_r2"])
        assert fixed["verdict"] == "bounded", (scenario, fixed["leak_rate_mib_per_min"], fixed["fit_r2"])
        assert fixed["leak_class"] is None and "series" not in fixed["verdict_rules"], fixed["metric_series_growth"]
        if scenario == "metric-labels":  # thousands of series: fifteen per request (a histogram's buckets and more)
            assert "series" in leaky["verdict_rules"], (leaky["metric_series_growth"], leaky["verdict_reason"])
            assert "the /metrics series count climbs with the traffic" in leaky["verdict_reason"]
            assert leaky["metric_series_growth"] > 2000 and abs(fixed["metric_series_growth"]) < 500
        if scenario == "native":
            assert leaky["leak_class"] == "native memory", leaky["triage"]
            assert leaky["top_line"] is None and "memray" in leaky["triage"] and "--native" in leaky["triage"]
        else:
            module = scenario.replace("-", "_")
            assert leaky["leak_class"] == "python objects", leaky["triage"]
            assert leaky["top_line"].startswith(f"services/api/leaklab_api/scenarios/{module}.py:"), leaky["top_line"]


@pytest.mark.slow
def test_the_report_and_terminal_show_the_class(catalogue: dict[str, Any]) -> None:
    html, stderr = catalogue["_html"], catalogue["_stderr"]
    assert "What leaks: Python objects or native memory" in html
    assert "native memory" in html and "python objects" in html and "scenarios/tasks.py:" in html
    assert "/metrics series" in html and "a label leak" in html and "scenarios/metric_labels.py:" in html
    assert "class" in stderr and "native: native memory" in stderr
    assert catalogue["thresholds"]["class_rule"].startswith("for a leaking run")
