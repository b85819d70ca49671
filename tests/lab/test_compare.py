"""``leaklab compare`` and ``leaklab report``: real API processes, redis-server and Locust, short runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_binary

from .browser import look_at

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def leaklab(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "leaklab.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    require_binary("redis-server")
    out = tmp_path_factory.mktemp("compare") / "report"
    # 20 s: the verdict needs 10 s of readings after warm-up and the tracemalloc window. The redis mode's warm-up
    # lasts until Redis is full: at ~90 requests/s, 16 MiB fill in ~2 s where the default 64 MiB take ~9 s
    done = leaklab(
        "compare", "--modes", "leaky,lru,redis", "--duration", "20s", "--mem-limit", "512M",
        "--redis-maxmemory", "16mb", "--out", out,
    )  # fmt: skip
    return done, out


def _summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return data


@pytest.mark.slow
def test_compare_calls_the_leak_leaking_and_both_fixes_bounded(
    compared: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, out = compared
    assert done.returncode == 0, done.stderr
    modes = _summary(out)["modes"]
    assert [m for m in modes] == ["leaky", "lru", "redis"]
    assert modes["leaky"]["verdict"] == "leaking"
    assert modes["leaky"]["leak_rate_mib_per_min"] > 60  # ~68 KiB per request at ~90 requests/s
    assert modes["lru"]["verdict"] == "bounded"
    assert modes["redis"]["verdict"] == "bounded"
    for mode, m in modes.items():
        assert m["requests"] > 200, mode
        assert m["failures"] == 0, mode
        assert m["oom_kills"] == 0, mode  # 512M is far above what 10 s of leaking takes
        assert m["p95_ms"] is not None, mode
    assert modes["lru"]["evictions"] > 0
    assert modes["redis"]["redis_maxmemory_bytes"] == 16 * 1024 * 1024
    assert 0 < modes["redis"]["redis_used_memory_peak_bytes"] <= 16 * 1024 * 1024 * 1.05
    assert "leaky" in done.stderr and "leaking" in done.stderr and "report.html" in done.stderr


@pytest.mark.slow
def test_leaky_top_allocation_site_is_the_cache_write(compared: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = compared
    alloc = _summary(out)["modes"]["leaky"]["alloc"]
    top = alloc["sites"][0]
    assert top["site"].startswith("services/api/leaklab_api/cache/leaky.py:")
    assert "self._store[key]" in top["line"]
    assert top["share"] > 0.9


@pytest.mark.slow
def test_report_directory_has_valid_charts_csv_and_a_self_contained_page(
    compared: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = compared
    for chart in ("memory.png", "load.png", "cache.png", "redis.png"):
        assert (out / chart).read_bytes()[:8] == PNG_MAGIC, chart
    header = (out / "samples.csv").read_text().splitlines()[0].split(",")
    assert {"mode", "t_s", "rss_bytes", "cgroup_bytes", "cache_entries", "rps", "redis_used_memory"} <= set(header)
    page = (out / "report.html").read_text()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.count("data:image/png;base64,") == 4
    assert "src='http" not in page and 'src="http' not in page  # nothing fetched from elsewhere
    assert "leaky.py" in page and "How the verdict is computed" in page


@pytest.mark.slow
def test_report_command_rerenders_from_the_recorded_data(
    compared: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, out = compared
    (out / "report.html").unlink()
    (out / "memory.png").unlink()
    done = leaklab("report", out)
    assert done.returncode == 0, done.stderr
    assert "leaky: leaking" in done.stdout
    assert (out / "memory.png").read_bytes()[:8] == PNG_MAGIC
    assert _summary(out)["modes"]["lru"]["verdict"] == "bounded"


def test_report_command_on_a_directory_that_is_not_a_report(tmp_path: Path) -> None:
    done = leaklab("report", tmp_path)
    assert done.returncode == 2
    assert "summary.json not found" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.slow
def test_compare_without_redis_server_runs_the_other_modes_and_says_so(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path / "empty-bin"), "HOME": str(tmp_path)}
    out = tmp_path / "report"
    done = leaklab("compare", "--duration", "3s", "--no-alloc-sites", "--out", out, env=env)
    assert done.returncode == 0, done.stderr
    assert "redis left out" in done.stderr and "apt-get install redis-server" in done.stderr
    summary = _summary(out)
    assert list(summary["modes"]) == ["leaky", "lru"]
    assert summary["skipped_modes"][0]["mode"] == "redis"
    assert "was left out" in (out / "report.html").read_text()


@pytest.mark.parametrize("command", [["run", "--mode", "redis"], ["compare", "--modes", "leaky,redis"]])
def test_asking_for_redis_without_redis_server_is_refused_with_how_to_install(
    tmp_path: Path, command: list[str]
) -> None:
    done = leaklab(*command, "--out", tmp_path / "r", env={"PATH": str(tmp_path), "HOME": str(tmp_path)})
    assert done.returncode == 2
    assert "'redis-server' was not found on PATH" in done.stderr
    assert "apt-get install redis-server" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mem-limit", "lots"], "not a size"),
        (["--mem-limit", "10M"], "below 64M"),
        (["--duration", "soon"], "not a duration"),
        (["--users", "0"], "argument --users: must be 1 or more (got '0')"),
        (["--duration", "1s"], "duration must be between 3s and 86400s"),
    ],
)
def test_bad_options_get_one_clear_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = leaklab("run", *args, "--out", tmp_path / "r")
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_unknown_mode_in_the_list_is_named(tmp_path: Path) -> None:
    done = leaklab("compare", "--modes", "leaky,forever", "--out", tmp_path / "r")
    assert done.returncode == 2
    assert "argument --modes: unknown mode forever; choose from leaky, lru, redis" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_report_html_reads_well_in_a_real_browser(compared: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    """Headless Chromium opens report.html: every chart loads, no console error, verdicts and sites in view."""
    chromium = require_binary("chromium")
    done, out = compared
    assert done.returncode == 0, done.stderr
    shot = out / "report-screenshot.png"  # kept beside the report in the test's tmp directory
    view = look_at(out / "report.html", chromium, shot, ["#verdict", "#alloc table.sites", "h1"])
    assert view.console_errors == []
    charts = _summary(out)["charts"]
    assert len(view.images) == len(charts) >= 4  # memory, load, cache and (redis ran) redis
    for image in view.images:
        assert image["loaded"] and int(str(image["width"])) >= 600, image
    assert view.visible == {"#verdict": True, "#alloc table.sites": True, "h1": True}
    verdicts = view.texts["#verdict"]
    assert "leaky" in verdicts and "leaking" in verdicts and "bounded" in verdicts and "MiB/min" in verdicts
    assert "cache/leaky.py" in view.texts["#alloc table.sites"]  # the leaking line, in leaky's table (first)
    assert shot.read_bytes().startswith(PNG_MAGIC) and shot.stat().st_size > 50_000
