"""``leaklab bench`` end to end: bad arguments, and very short real runs (no timing assertions)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_binary

pytestmark = pytest.mark.slow


def bench(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leaklab.cli", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rounds", "0"], "argument --rounds: must be 1 or more (got '0')"),
        (["--duration", "soon"], "argument --duration: must be a number from 0.5 to 3600 (got 'soon')"),
        (["--servers", "lru,apache"], "unknown server apache; choose from leaky, lru, redis"),
        (["--connections", "1", "--threads", "2"], "--connections (1) must be at least --threads (2)"),
        (["--load-tool", "ab"], "argument --load-tool: invalid choice: 'ab'"),
        (["--redis-maxmemory", "lots"], "argument --redis-maxmemory: must be a size like 64mb or 1gb (got 'lots')"),
    ],
)
def test_bad_arguments_get_one_clear_line(args: list[str], message: str) -> None:
    result = bench(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_wrk_is_named_with_how_to_install_it(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path)}  # nothing on PATH
    result = bench("--servers", "lru", "--load-tool", "wrk", env=env)
    assert result.returncode == 2
    assert "'wrk' was not found on PATH: install it with 'sudo apt-get install wrk'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_short_run_writes_table_json_and_markdown(tmp_path: Path) -> None:
    require_binary("wrk")
    markdown = tmp_path / "BENCHMARKS.md"
    markdown.write_text("# Benchmarks\n\nOur notes.\n")
    result = bench(
        "--servers", "lru,asgi-ceiling", "--rounds", "1", "--duration", "1", "--requests", "300",
        "--connections", "20", "--out", str(tmp_path / "out"), "--markdown", str(markdown),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "lru" in result.stdout and "asgi-ceiling" in result.stdout
    doc = json.loads((tmp_path / "out" / "bench.json").read_text())
    row = doc["summary"]["rows"]["lru"]
    assert row["rps"] > 0 and row["p99_ms"] >= row["p50_ms"] > 0
    assert row["rss_end_mib"] > 0 and row["cpu_ms_per_request"] > 0
    assert row["errors"] == 0
    assert row["cache_entries_at_scrape"] == 50  # the LRU is full after 300 fresh keys, and bounded
    assert row["cache_errors"] == 0
    assert [r["server"] for r in doc["rounds"]] == ["lru", "asgi-ceiling"]
    text = markdown.read_text()
    assert text.startswith("# Benchmarks\n\nOur notes.\n")
    assert "| lru |" in text and "Command: `leaklab bench --servers lru,asgi-ceiling" in text


def test_locust_is_the_fallback_load_tool(tmp_path: Path) -> None:
    result = bench(
        "--servers", "asgi-ceiling", "--rounds", "1", "--duration", "4", "--requests", "200",
        "--connections", "10", "--load-tool", "locust", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "bench.json").read_text())
    assert doc["settings"]["load_tool"] == "locust"
    assert doc["summary"]["rows"]["asgi-ceiling"]["rps"] > 0
    assert any("Locust" in note for note in doc["notes"])


def test_the_story_node_server_runs_when_node_is_installed(tmp_path: Path) -> None:
    require_binary("node")
    require_binary("npm")
    require_binary("wrk")
    result = bench(
        "--servers", "node-lru", "--rounds", "1", "--duration", "1", "--requests", "200",
        "--connections", "10", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = json.loads((tmp_path / "bench.json").read_text())
    assert doc["summary"]["rows"]["node-lru"]["rps"] > 0
    assert doc["versions"]["npm lru-cache"] == "10.4.3"
