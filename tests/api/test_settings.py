"""Start-up: settings from LEAKLAB_* variables and flags; a bad one stops start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from leaklab.procs import free_port
from leaklab_api.settings import CacheMode, ScenarioName, SettingsError, load_settings

from ..conftest import ApiFactory
from .helpers import Client


def run_api(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEAKLAB_")}
    return subprocess.run(
        [sys.executable, "-m", "leaklab", "api", "--port", str(free_port()), *args],
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=20,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LEAKLAB_CACHE_MODE": "forever"}, "LEAKLAB_CACHE_MODE: must be one of leaky, lru, redis (got 'forever')"),
        (
            {"LEAKLAB_LRU_MAX_ENTRIES": "-5"},
            "LEAKLAB_LRU_MAX_ENTRIES: must be a number >= 1 and <= 10000000 (got '-5')",
        ),
        ({"LEAKLAB_PAYLOAD_ITEMS": "lots"}, "LEAKLAB_PAYLOAD_ITEMS: "),
        (
            {"LEAKLAB_ORIGIN_LATENCY_MS": "-1"},
            "LEAKLAB_ORIGIN_LATENCY_MS: must be a number >= 0 and <= 10000 (got '-1')",
        ),
        (
            {"LEAKLAB_REDIS_URL": "http://localhost:6379"},
            "LEAKLAB_REDIS_URL: must be a Redis URL like redis://host:6379/0",
        ),
        ({"LEAKLAB_REDIS_TIMEOUT_MS": "0"}, "LEAKLAB_REDIS_TIMEOUT_MS: must be a number > 0 and <= 60000 (got '0')"),
        (
            {"LEAKLAB_SCENARIO": "leak-everything"},
            "LEAKLAB_SCENARIO: must be one of cache, memoize, listeners, request-log, tasks, exceptions, native, "
            "metric-labels (got 'leak-everything')",
        ),
        ({"LEAKLAB_SCENARIO_FIXED": "perhaps"}, "LEAKLAB_SCENARIO_FIXED: input should be a valid boolean"),
    ],
)
def test_bad_variable_stops_start_up_with_one_line(env: dict[str, str], expected: str) -> None:
    result = run_api(env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("leaklab api: error: " + expected), lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (("--lru-max-entries", "0"), "LEAKLAB_LRU_MAX_ENTRIES: must be a number >= 1"),
        (("--port", "70000"), "LEAKLAB_PORT: must be a number >= 0 and <= 65535 (got '70000')"),
        (("--redis-url", "redis://:6379:x"), "LEAKLAB_REDIS_URL: must be a Redis URL"),
    ],
)
def test_bad_flag_value_names_the_variable_too(flags: tuple[str, str], expected: str) -> None:
    result = run_api(*flags)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_mode_flag_lists_the_choices() -> None:
    result = run_api("--mode", "forever")
    assert result.returncode == 2
    assert "invalid choice: 'forever'" in result.stderr and "leaky" in result.stderr
    assert "Traceback" not in result.stderr


def test_several_bad_variables_are_all_named() -> None:
    result = run_api(env={"LEAKLAB_CACHE_MODE": "x", "LEAKLAB_PAYLOAD_ITEMS": "0"})
    assert result.returncode == 2
    assert "LEAKLAB_CACHE_MODE" in result.stderr and "LEAKLAB_PAYLOAD_ITEMS" in result.stderr


def test_flags_override_environment(start_api: ApiFactory) -> None:
    api = start_api("lru", env={"LEAKLAB_CACHE_MODE": "leaky", "LEAKLAB_LRU_MAX_ENTRIES": "7"})
    client = Client(api.port)
    status, body = client.json("GET", "/healthz")
    assert status == 200 and body["mode"] == "lru"  # --mode lru beats LEAKLAB_CACHE_MODE=leaky
    status, _, text = client.get("/metrics")
    assert b"leaklab_cache_limit_entries 7.0" in text  # the variable still applies where no flag is given


def test_load_settings_defaults_match_the_contract(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LEAKLAB_"):
            monkeypatch.delenv(name)
    settings = load_settings()
    assert settings.cache_mode is CacheMode.LEAKY
    assert settings.lru_max_entries == 50
    assert settings.payload_items == 10_000
    assert str(settings.redis_url) == "redis://localhost:6379/0"
    assert settings.debug_enabled is False
    assert load_settings(tracemalloc=True).debug_enabled is True
    with pytest.raises(SettingsError, match="LEAKLAB_CACHE_MODE"):
        load_settings(cache_mode="nope")


def test_a_catalogue_scenario_runs_beside_the_lru_unless_a_cache_mode_is_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("LEAKLAB_"):
            monkeypatch.delenv(name)
    assert load_settings().scenario is ScenarioName.CACHE and load_settings().scenario_fixed is False
    tasks = load_settings(scenario="tasks")
    assert tasks.scenario is ScenarioName.TASKS and tasks.cache_mode is CacheMode.LRU  # the only leak
    assert load_settings(scenario="tasks", cache_mode="leaky").cache_mode is CacheMode.LEAKY
    monkeypatch.setenv("LEAKLAB_SCENARIO", "native")
    monkeypatch.setenv("LEAKLAB_SCENARIO_FIXED", "true")
    native = load_settings()
    assert native.scenario is ScenarioName.NATIVE and native.scenario_fixed and native.cache_mode is CacheMode.LRU


def test_unknown_scenario_flag_lists_the_choices() -> None:
    result = run_api("--scenario", "forever")
    assert result.returncode == 2
    assert "invalid choice: 'forever'" in result.stderr and "metric-labels" in result.stderr
    assert "Traceback" not in result.stderr
