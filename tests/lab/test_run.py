"""``leaklab run``: a real memory limit, real OOM kills and restarts, and Ctrl-C leaving nothing behind."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from leaklab.lab.catalogue import SCENARIOS, run_name
from leaklab.lab.experiment import announce
from leaklab.lab.limits import CgroupLimit, LimitError, MemoryLimit, SystemdScopeLimit, WatchdogLimit
from leaklab.lab.live import LiveDisplay
from leaklab.lab.result import ModeResult
from tests.conftest import require_binary


def _cgroup_available() -> bool:
    try:
        CgroupLimit.create(256 * 1024 * 1024, "probe").close()
    except LimitError:
        return False
    return True


def _limits() -> list[MemoryLimit]:
    """Each way the lab enforces a limit, with the description it prints (nothing created or started)."""
    watchdog = WatchdogLimit(256 * 1024 * 1024)
    watchdog.close()
    return [
        CgroupLimit(256 * 1024 * 1024, Path("/sys/fs/cgroup/memory/a/b/leaklab-1-leaky"), 1),
        CgroupLimit(256 * 1024 * 1024, Path("/sys/fs/cgroup/leaklab-1-leaky"), 2),
        SystemdScopeLimit(256 * 1024 * 1024, "/usr/bin/systemd-run", user=True),
        SystemdScopeLimit(256 * 1024 * 1024, "/usr/bin/systemd-run", user=False),
        watchdog,
    ]


@pytest.mark.parametrize("limit", _limits(), ids=lambda limit: limit.name)
def test_the_memory_limit_reads_well_at_80_columns(limit: MemoryLimit) -> None:
    """make demo's first lines: none wraps on an 80-column terminal, and a cgroup's path, however long,
    stands whole on a line of its own that says what it is."""
    longest = max([run_name(s, fixed=True) for s in SCENARIOS], key=len)
    out = io.StringIO()
    display = LiveDisplay([longest], 30, Console(file=out, width=80, force_terminal=True, color_system=None))
    where = "/sys/fs/cgroup/memory/process_api/1d0fba82325d9e73020da19a7b2ddcfa/leaklab-4242-" + longest
    result = ModeResult(longest, limit_description=limit.description, limit_where=where if limit.where else "")
    announce(display, result, limit.limit_bytes)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"{longest}: memory limit 256 MiB"
    assert lines[1] == f"  enforced by {limit.description}"
    assert all(len(line) <= 80 for line in lines[:2]), lines
    if limit.where:
        assert lines[2:] == [f"  its cgroup: {where}"]
    else:
        assert len(lines) == 2


def _run(out: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "leaklab.cli", "run", "--mode", "leaky", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done, json.loads((out / "summary.json").read_text())["modes"]["leaky"]


@pytest.mark.slow
def test_kernel_oom_kills_the_api_in_its_cgroup_and_the_runner_restarts_it(tmp_path: Path) -> None:
    if not _cgroup_available():
        pytest.skip("no writable memory cgroup here (needs root and the cgroup filesystem)")
    done, leaky = _run(tmp_path, "--duration", "7s", "--users", "20", "--mem-limit", "80M", "--no-alloc-sites")
    assert leaky["limit_mechanism"].startswith("cgroup-v")
    assert leaky["oom_kills"] >= 1  # the cgroup's own counter (memory.oom_control / memory.events)
    assert leaky["restarts"] >= 1
    kills = [e for e in leaky["events"] if e["kind"] == "killed"]
    assert kills and "exit code -9" in kills[0]["detail"]
    assert leaky["verdict"] == "leaking"
    assert leaky["failures"] > 0  # Locust saw the API go down, as users would
    assert not Path(leaky["limit_where"]).exists()  # the cgroup is removed at the end
    assert "OOM kills" in done.stderr and "enforced by the kernel's OOM killer (own cgroup v" in done.stderr
    assert f"  its cgroup: {leaky['limit_where']}\n" in done.stderr  # whole, on a line of its own
    # the API itself saw the limit of the cgroup it lived in
    rows = (tmp_path / "samples.csv").read_text().splitlines()
    header = rows[0].split(",")
    limits = {r.split(",")[header.index("api_cgroup_limit_bytes")] for r in rows[1:]} - {""}
    assert {float(v) for v in limits} == {80 * 1024 * 1024}


@pytest.mark.slow
def test_watchdog_fallback_kills_and_restarts_the_api_at_the_limit(tmp_path: Path) -> None:
    _, leaky = _run(
        tmp_path, "--duration", "7s", "--users", "20", "--mem-limit", "90M", "--limit-mechanism", "watchdog",
        "--no-alloc-sites",
    )  # fmt: skip
    assert leaky["limit_mechanism"] == "watchdog"
    assert leaky["oom_kills"] >= 1
    assert leaky["restarts"] >= 1
    assert leaky["rss_peak_mib"] < 90 + 15  # killed close to the limit (polled every 50 ms)
    assert "watchdog" in (tmp_path / "report.html").read_text()


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_ctrl_c_stops_every_child_and_still_writes_the_report(tmp_path: Path) -> None:
    require_binary("redis-server")
    proc = subprocess.Popen(
        [sys.executable, "-m", "leaklab.cli", "run", "--mode", "redis", "--duration", "60s", "--out", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        children: set[int] = set()
        while time.monotonic() < deadline and not (tmp_path / "logs" / "locust-redis_stats_history.csv").exists():
            time.sleep(0.1)  # Locust writes its history once its users run: every child is up by then
        children = _descendants(proc.pid)
        assert len(children) >= 3, f"children seen: {children}"  # redis-server, the API, Locust (and a shell)
        os.kill(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, stderr
    assert not [pid for pid in children if _alive(pid)]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["interrupted"] is True
    redis = summary["modes"]["redis"]
    assert redis["interrupted"] is True
    if _cgroup_available():  # the run had a cgroup of its own: Ctrl-C must not leave it behind
        assert redis["limit_mechanism"].startswith("cgroup-v")
        assert redis["limit_where"] and not Path(redis["limit_where"]).exists()
    else:
        assert redis["limit_mechanism"] in ("systemd-scope", "watchdog")
    assert (tmp_path / "report.html").exists()
    assert "interrupted" in stderr
