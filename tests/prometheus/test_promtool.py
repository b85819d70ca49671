"""The repo's Prometheus config and rules pass promtool, and every alert has a unit test that passes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.conftest import require_binary

from .lab_config import CONFIG, PROMETHEUS_DIR, loopback_config, repo_config

RULES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.test.yml"))
REQUIRED_ALERTS = {"LeakSuspected", "OomPredicted", "ApiRestarted", "RedisNoMaxmemory"}


def promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess[str]:
    binary = require_binary("promtool")
    return subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


def test_config_passes_promtool_check_config() -> None:
    result = promtool("check", "config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_loopback_variant_of_the_config_passes_too(tmp_path: Path) -> None:
    config = loopback_config({job: ["127.0.0.1:9"] for job in ("api", "redis", "locust", "prometheus")})
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    result = promtool("check", "config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rules_pass_promtool_check_rules() -> None:
    assert RULES, "no rule files in prometheus/rules/"
    result = promtool("check", "rules", *map(str, RULES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_config_loads_the_rule_files() -> None:
    patterns = repo_config()["rule_files"]
    loaded = {path for pattern in patterns for path in PROMETHEUS_DIR.glob(pattern)}
    assert set(RULES) <= loaded


def test_every_alert_has_a_passing_promtool_unit_test() -> None:
    alerts = {
        rule["alert"]
        for path in RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    assert alerts >= REQUIRED_ALERTS
    tested: set[str] = set()
    fired: set[str] = set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                tested.add(check["alertname"])
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    assert alerts <= tested, f"alerts without a test: {sorted(alerts - tested)}"
    assert alerts <= fired, f"alerts never expected to fire in a test: {sorted(alerts - fired)}"
    result = promtool("test", "rules", *(str(p.relative_to(PROMETHEUS_DIR)) for p in RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
