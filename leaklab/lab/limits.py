"""The API's memory limit, enforced the way a container's ``mem_limit`` is: a memory cgroup and the kernel.

In order of preference: a cgroup of our own through the cgroup filesystem (v1 ``memory.limit_in_bytes``
or v2 ``memory.max``, when we may write there, e.g. as root), a transient systemd scope
(``systemd-run --user --scope -p MemoryMax=``, a desktop with cgroup v2), and last a watchdog thread
that SIGKILLs the API when its resident memory passes the limit (no kernel involved).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from leaklab_api.cgroup import CGROUP_ROOT, PROC_SELF_CGROUP, MemoryCgroup, own_groups

from ..procs import rss_bytes

MECHANISMS = ("auto", "cgroup", "systemd", "watchdog")


class LimitError(RuntimeError):
    """The requested mechanism cannot enforce a limit on this machine."""


class MemoryLimit:
    """How the API is kept under ``limit_bytes``; ``argv_prefix`` places each (re)started API under it."""

    name = "none"
    description = ""
    where = ""  # the cgroup's path, when there is one

    def __init__(self, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes

    def argv_prefix(self) -> list[str]:
        return []

    def attach(self, pid: int) -> None:
        """Called with the PID of each API process once it runs."""

    def usage_bytes(self) -> int | None:
        return None

    def oom_kills(self) -> int | None:
        """Kills counted by the limit itself (the cgroup's counter, or the watchdog's); None if unknown."""
        return None

    def close(self) -> None:
        """Remove whatever was created; called once the API is gone."""


class CgroupLimit(MemoryLimit):
    """A memory cgroup of our own under this process's group, written through the cgroup filesystem."""

    def __init__(self, limit_bytes: int, path: Path, version: int) -> None:
        super().__init__(limit_bytes)
        self.path = path
        self.version = version
        self.group = MemoryCgroup(path, version)  # the service's reader of a group's files
        self.name = f"cgroup-v{version}"
        self.where = str(path)
        files = "memory.limit_in_bytes" if version == 1 else "memory.max"
        self.description = f"the kernel's OOM killer (own cgroup v{version}, {files})"

    @classmethod
    def create(
        cls, limit_bytes: int, tag: str, *, root: Path = CGROUP_ROOT, proc_cgroup: Path = PROC_SELF_CGROUP
    ) -> CgroupLimit:
        """A new group under this process's own one (``proc_cgroup``) in the hierarchy mounted at ``root``."""
        own = own_groups(proc_cgroup)
        v1 = own.get("memory")
        name = f"leaklab-{os.getpid()}-{tag}"
        if v1 is not None and (root / "memory").is_dir():
            return cls._create_v1(limit_bytes, root / "memory" / v1.lstrip("/") / name)
        v2 = own.get("")
        if v2 is not None and (root / "cgroup.controllers").exists():
            return cls._create_v2(limit_bytes, root / v2.lstrip("/"), name)
        raise LimitError("no writable memory cgroup (cgroup v1 memory controller or cgroup v2) was found")

    @classmethod
    def _create_v1(cls, limit_bytes: int, path: Path) -> CgroupLimit:
        try:
            path.mkdir()
        except OSError as exc:
            raise LimitError(f"cannot create {path}: {exc.strerror}") from None
        try:
            (path / "memory.limit_in_bytes").write_text(str(limit_bytes))
            # Without swap accounting the limit would only push pages to swap; a container has none either.
            if (path / "memory.memsw.limit_in_bytes").exists():
                (path / "memory.memsw.limit_in_bytes").write_text(str(limit_bytes))
            with contextlib.suppress(OSError):
                (path / "memory.swappiness").write_text("0")
        except OSError as exc:
            _rmdir(path)
            raise LimitError(f"cannot set a limit in {path}: {exc.strerror}") from None
        return cls(limit_bytes, path, 1)

    @classmethod
    def _create_v2(cls, limit_bytes: int, parent: Path, name: str) -> CgroupLimit:
        path = parent / name
        try:
            if "memory" not in (parent / "cgroup.subtree_control").read_text().split():
                (parent / "cgroup.subtree_control").write_text("+memory")
            path.mkdir()
        except OSError as exc:
            raise LimitError(f"cannot create a memory cgroup under {parent}: {exc.strerror}") from None
        try:
            (path / "memory.max").write_text(str(limit_bytes))
            with contextlib.suppress(OSError):
                (path / "memory.swap.max").write_text("0")
        except OSError as exc:
            _rmdir(path)
            raise LimitError(f"cannot set memory.max in {path}: {exc.strerror}") from None
        return cls(limit_bytes, path, 2)

    def argv_prefix(self) -> list[str]:
        # The child joins the group before exec'ing the API, so even its start-up is charged to the group.
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs")]

    def usage_bytes(self) -> int | None:
        memory = self.group.read()
        return memory.usage_bytes if memory else None

    def oom_kills(self) -> int | None:
        memory = self.group.read()
        return memory.oom_kills if memory else None

    def close(self) -> None:
        _rmdir(self.path)


class SystemdScopeLimit(MemoryLimit):
    """A transient systemd scope with ``MemoryMax``: systemd creates the cgroup, the kernel enforces it."""

    name = "systemd-scope"

    def __init__(self, limit_bytes: int, systemd_run: str, user: bool) -> None:
        super().__init__(limit_bytes)
        self.command = [systemd_run, *(["--user"] if user else []), "--scope", "--quiet", "--collect"]
        self.description = f"the kernel's OOM killer (systemd-run{' --user' if user else ''} --scope, MemoryMax)"
        self._group: MemoryCgroup | None = None

    @classmethod
    def create(cls, limit_bytes: int) -> SystemdScopeLimit:
        systemd_run = shutil.which("systemd-run")
        if systemd_run is None:
            raise LimitError("systemd-run is not on PATH")
        for user in (True, False) if os.geteuid() == 0 else (True,):
            limit = cls(limit_bytes, systemd_run, user)
            probe = subprocess.run([*limit.argv_prefix(), "true"], capture_output=True, timeout=10, check=False)
            if probe.returncode == 0:
                return limit
        raise LimitError("systemd-run --scope did not work here: " + probe.stderr.decode(errors="replace").strip())

    def argv_prefix(self) -> list[str]:
        return [*self.command, "-p", f"MemoryMax={self.limit_bytes}", "-p", "MemorySwapMax=0", "--"]

    def attach(self, pid: int) -> None:
        self._group = MemoryCgroup.find(Path(f"/proc/{pid}/cgroup"))

    def usage_bytes(self) -> int | None:
        memory = self._group.read() if self._group else None
        return memory.usage_bytes if memory else None


class WatchdogLimit(MemoryLimit):
    """No cgroup available: a thread polls the API's resident memory and SIGKILLs it past the limit."""

    name = "watchdog"

    def __init__(self, limit_bytes: int, interval_s: float = 0.05) -> None:
        super().__init__(limit_bytes)
        self.interval_s = interval_s
        self.description = "a watchdog that SIGKILLs the API past it (no cgroup available)"
        self.kills = 0
        self._pid: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="leaklab-watchdog", daemon=True)
        self._thread.start()

    def attach(self, pid: int) -> None:
        self._pid = pid

    def usage_bytes(self) -> int | None:
        return rss_bytes(self._pid) if self._pid else None

    def oom_kills(self) -> int:
        return self.kills

    def _watch(self) -> None:
        while not self._stop.wait(self.interval_s):
            pid = self._pid
            rss = rss_bytes(pid) if pid else None
            if pid and rss is not None and rss > self.limit_bytes:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                    self.kills += 1
                self._pid = None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)


def choose(limit_bytes: int, tag: str, mechanism: str = "auto") -> tuple[MemoryLimit, list[str]]:
    """The limit to use and, for each preferred mechanism that could not be had, why."""
    notes: list[str] = []
    if mechanism in ("auto", "cgroup"):
        try:
            return CgroupLimit.create(limit_bytes, tag), notes
        except LimitError as exc:
            if mechanism == "cgroup":
                raise
            notes.append(f"cgroup filesystem: {exc}")
    if mechanism in ("auto", "systemd"):
        try:
            return SystemdScopeLimit.create(limit_bytes), notes
        except (LimitError, OSError, subprocess.TimeoutExpired) as exc:
            if mechanism == "systemd":
                raise LimitError(str(exc)) from None
            notes.append(f"systemd-run: {exc}")
    return WatchdogLimit(limit_bytes), notes


def _rmdir(path: Path) -> None:
    for _ in range(50):  # the kernel may need a moment after the last process left
        try:
            path.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.05)
