"""The memory cgroup this process lives in: what the kernel's OOM killer compares to the limit.

Works for cgroup v2 (``memory.current``, ``memory.max``, ``memory.events``) and v1
(``memory.usage_in_bytes``, ``memory.limit_in_bytes``, ``memory.oom_control``), inside a container
(where the process sees its own group at the mount root) and outside one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
_UNLIMITED_V1 = 1 << 62  # v1 reports "no limit" as a huge page-aligned number


@dataclass(frozen=True, slots=True)
class CgroupMemory:
    usage_bytes: int
    limit_bytes: int  # 0 = unlimited
    oom_kills: int | None  # None when the kernel does not say


class MemoryCgroup:
    """Reads one memory cgroup's files; ``find()`` locates this process's own group."""

    def __init__(self, path: Path, version: int) -> None:
        self.path = path
        self.version = version

    @classmethod
    def find(cls, proc_cgroup: Path = PROC_SELF_CGROUP, root: Path = CGROUP_ROOT) -> MemoryCgroup | None:
        """The memory cgroup of the process whose ``/proc/PID/cgroup`` is ``proc_cgroup``, under ``root``."""
        groups = own_groups(proc_cgroup)
        v1 = groups.get("memory")
        if v1 is not None:
            for candidate in (root / "memory" / v1.lstrip("/"), root / "memory"):
                if (candidate / "memory.usage_in_bytes").exists():
                    return cls(candidate, 1)
        v2 = groups.get("")
        if v2 is not None:
            for candidate in (root / v2.lstrip("/"), root):
                if (candidate / "memory.current").exists():
                    return cls(candidate, 2)
        return None

    def read(self) -> CgroupMemory | None:
        try:
            if self.version == 2:
                usage = int(_read(self.path / "memory.current"))
                raw_limit = _read(self.path / "memory.max")
                limit = 0 if raw_limit == "max" else int(raw_limit)
                ooms = _field(self.path / "memory.events", "oom_kill")
            else:
                usage = int(_read(self.path / "memory.usage_in_bytes"))
                limit = int(_read(self.path / "memory.limit_in_bytes"))
                limit = 0 if limit >= _UNLIMITED_V1 else limit
                ooms = _field(self.path / "memory.oom_control", "oom_kill")
        except (OSError, ValueError):
            return None
        return CgroupMemory(usage, limit, ooms)


def own_groups(proc_cgroup: Path = PROC_SELF_CGROUP) -> dict[str, str]:
    """Controller (``""`` for cgroup v2) -> the group's path, from a ``/proc/PID/cgroup`` file; {} if unreadable."""
    groups: dict[str, str] = {}
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return groups
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path
    return groups


def _read(path: Path) -> str:
    return path.read_text().strip()


def _field(path: Path, name: str) -> int | None:
    try:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == name:
                return int(value)
    except (OSError, ValueError):
        return None
    return None
