"""The memory limit's cgroup side against fake ``/proc`` and ``/sys/fs/cgroup`` trees, and the watchdog for real.

Creating a group in a fake tree exercises what the runner writes (the limit, no swap) and reads back
(usage, OOM kills) through the service's reader; a real group is exercised by the lab tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from leaklab.lab.limits import CgroupLimit, LimitError, WatchdogLimit
from leaklab.units import MIB


def _proc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "proc-self-cgroup"
    path.write_text(text)
    return path


def test_v2_group_is_created_under_our_own_with_the_limit_and_no_swap(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    own = root / "user.slice" / "lab"
    own.mkdir(parents=True)
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (own / "cgroup.subtree_control").write_text("cpu\n")
    limit = CgroupLimit.create(192 * MIB, "leaky", root=root, proc_cgroup=_proc(tmp_path, "0::/user.slice/lab\n"))
    assert limit.version == 2 and limit.path.parent == own
    assert limit.path.name == f"leaklab-{os.getpid()}-leaky"
    assert (own / "cgroup.subtree_control").read_text() == "+memory"  # the memory controller was enabled
    assert (limit.path / "memory.max").read_text() == str(192 * MIB)
    assert (limit.path / "memory.swap.max").read_text() == "0"
    # the kernel's files, as they would read while the API runs
    (limit.path / "memory.current").write_text("5000000\n")
    (limit.path / "memory.events").write_text("oom 1\noom_kill 1\n")
    assert limit.usage_bytes() == 5_000_000 and limit.oom_kills() == 1
    assert limit.argv_prefix()[-1] == str(limit.path / "cgroup.procs")
    for name in ("memory.max", "memory.swap.max", "memory.current", "memory.events"):
        (limit.path / name).unlink()  # a real group's files vanish with it
    limit.close()
    assert not limit.path.exists()


def test_v1_group_limits_memory_and_swap(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    (root / "memory" / "lab").mkdir(parents=True)
    proc = _proc(tmp_path, "9:memory:/lab\n0::/\n")
    limit = CgroupLimit.create(128 * MIB, "lru", root=root, proc_cgroup=proc)
    assert limit.version == 1 and limit.path.parent == root / "memory" / "lab"
    assert (limit.path / "memory.limit_in_bytes").read_text() == str(128 * MIB)
    assert (limit.path / "memory.swappiness").read_text() == "0"
    (limit.path / "memory.usage_in_bytes").write_text("7340032\n")
    (limit.path / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert limit.usage_bytes() == 7_340_032 and limit.oom_kills() == 2


def test_no_cgroup_hierarchy_is_a_clear_limit_error(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    with pytest.raises(LimitError, match="no writable memory cgroup"):
        CgroupLimit.create(MIB, "x", root=root, proc_cgroup=_proc(tmp_path, "0::/\n"))


def test_an_unwritable_parent_is_a_clear_limit_error(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    (root / "memory").mkdir(parents=True)  # the group named in /proc does not exist: mkdir fails
    with pytest.raises(LimitError, match="cannot create"):
        CgroupLimit.create(MIB, "x", root=root, proc_cgroup=_proc(tmp_path, "3:memory:/missing/deeper\n"))


def test_watchdog_kills_a_real_process_past_the_limit(tmp_path: Path) -> None:
    grow = "import time\nx = []\nwhile True:\n    x.append(bytearray(4 << 20))\n    time.sleep(0.01)\n"
    proc = subprocess.Popen([sys.executable, "-c", grow])
    limit = WatchdogLimit(96 * MIB, interval_s=0.02)
    try:
        limit.attach(proc.pid)
        assert proc.wait(timeout=60) == -9
        assert limit.oom_kills() == 1
    finally:
        limit.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
