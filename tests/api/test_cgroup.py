"""The service's memory-cgroup reader against small fake ``/proc`` and ``/sys/fs/cgroup`` trees.

The layouts are the kernel's: a v2 unified hierarchy (``0::/path``, ``memory.current``/``max``/``events``)
and a v1 memory controller (``N:memory:/path``, ``memory.usage_in_bytes``/``limit_in_bytes``/``oom_control``).
"""

from __future__ import annotations

from pathlib import Path

from leaklab_api.cgroup import MemoryCgroup, own_groups

V1_UNLIMITED = "9223372036854771712"  # what v1 writes for "no limit"


def _proc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "proc" / "self" / "cgroup"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def _files(directory: Path, **files: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name.replace("_", ".", 1)).write_text(text)
    return directory


def test_own_groups_reads_v1_controllers_and_the_v2_group(tmp_path: Path) -> None:
    proc = _proc(tmp_path, "12:cpu,cpuacct:/a\n4:memory:/lab/api\n0::/user.slice/x.scope\n")
    assert own_groups(proc) == {"cpu": "/a", "cpuacct": "/a", "memory": "/lab/api", "": "/user.slice/x.scope"}


def test_own_groups_of_a_missing_or_odd_file(tmp_path: Path) -> None:
    assert own_groups(tmp_path / "missing") == {}
    assert own_groups(_proc(tmp_path, "garbage\n0::/ok\n")) == {"": "/ok"}


def test_v2_group_usage_limit_and_oom_kills(tmp_path: Path) -> None:
    root = tmp_path / "sys" / "fs" / "cgroup"
    _files(root / "lab" / "api", memory_current="1048576\n", memory_max="201326592\n",
           memory_events="low 0\nhigh 0\nmax 12\noom 2\noom_kill 2\n")  # fmt: skip
    group = MemoryCgroup.find(_proc(tmp_path, "0::/lab/api\n"), root)
    assert group is not None and group.version == 2 and group.path == root / "lab" / "api"
    memory = group.read()
    assert memory is not None
    assert (memory.usage_bytes, memory.limit_bytes, memory.oom_kills) == (1_048_576, 201_326_592, 2)


def test_v2_unlimited_group_and_no_events_file(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _files(root / "svc", memory_current="4096\n", memory_max="max\n")
    memory = MemoryCgroup(root / "svc", 2).read()
    assert memory is not None and memory.limit_bytes == 0 and memory.oom_kills is None


def test_v2_inside_a_container_sees_its_group_at_the_root(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _files(root, memory_current="8192\n", memory_max="268435456\n", memory_events="oom_kill 0\n")
    group = MemoryCgroup.find(_proc(tmp_path, "0::/docker/abc123\n"), root)  # the path is not mounted inside
    assert group is not None and group.path == root


def test_v1_group_usage_limit_and_oom_kills(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _files(root / "memory" / "lab", memory_usage_in_bytes="2097152\n", memory_limit_in_bytes="134217728\n",
           memory_oom_control="oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")  # fmt: skip
    group = MemoryCgroup.find(_proc(tmp_path, "7:memory:/lab\n1:name=systemd:/x\n"), root)
    assert group is not None and group.version == 1
    memory = group.read()
    assert memory is not None
    assert (memory.usage_bytes, memory.limit_bytes, memory.oom_kills) == (2_097_152, 134_217_728, 3)


def test_v1_unlimited_reads_as_zero_and_an_old_kernel_has_no_oom_count(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    _files(root / "memory", memory_usage_in_bytes="100\n", memory_limit_in_bytes=V1_UNLIMITED + "\n",
           memory_oom_control="oom_kill_disable 0\nunder_oom 0\n")  # fmt: skip
    memory = MemoryCgroup(root / "memory", 1).read()
    assert memory is not None and memory.limit_bytes == 0 and memory.oom_kills is None


def test_no_memory_cgroup_at_all(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    root.mkdir()
    assert MemoryCgroup.find(_proc(tmp_path, "0::/x\n"), root) is None
    assert MemoryCgroup.find(tmp_path / "no-proc", root) is None
    assert MemoryCgroup(root / "gone", 2).read() is None
