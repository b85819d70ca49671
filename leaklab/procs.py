"""Child processes: a ``redis-server`` and a ``leaklab api``, each on a free loopback port, and what they share.

``Child`` starts any program with its log file; ``wait_until``/``wait_http`` is the one way the lab, the
profile, the benchmarks and the tests wait for a child to be up. ``require`` names a missing program with
how to install it; ``rss_bytes`` reads a process's resident memory. Every process started here is ended
by its PID (never by name), so a lab run or a test only ever stops what it started.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

LOOPBACK = "127.0.0.1"
INSTALL_HINTS = {
    "redis-server": "install it with 'sudo apt-get install redis-server' (Debian/Ubuntu) or 'brew install redis'",
    "prometheus": "install it with 'sudo apt-get install prometheus' (Debian/Ubuntu) or 'brew install prometheus'",
    "promtool": "it comes with Prometheus: 'sudo apt-get install prometheus' (Debian/Ubuntu)",
    "memray": "install it with '.venv/bin/pip install memray' (make setup does)",
    "wrk": "install it with 'sudo apt-get install wrk' (Debian/Ubuntu) or 'brew install wrk'",
    "node": "install Node.js 18+ and npm ('sudo apt-get install nodejs npm')",
}


class MissingBinary(RuntimeError):
    """A program the lab needs is not on PATH; the message says how to install it."""

    def __init__(self, name: str) -> None:
        self.name = name
        hint = INSTALL_HINTS.get(name, "install it and make sure it is on PATH")
        super().__init__(f"'{name}' was not found on PATH: {hint}")


class ChildDied(RuntimeError):
    """A child process exited when it should have been running."""


def require(name: str) -> str:
    """The path of ``name`` on PATH, or ``MissingBinary``."""
    path = shutil.which(name)
    if path is None:
        raise MissingBinary(name)
    return path


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def rss_bytes(pid: int) -> int | None:
    """Resident memory of ``pid`` (what ``process_resident_memory_bytes`` reports), or None if it is gone."""
    try:
        with Path(f"/proc/{pid}/statm").open() as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def http_get(port: int, path: str, timeout_s: float = 2.0) -> tuple[int, dict[str, str], bytes]:
    """One GET on the loopback interface: (status, headers with lower-case names, body)."""
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


class Child:
    """A started process with its log file; ``stop()`` ends it (and only it) by PID."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = log_path.open("ab")
        self.proc = subprocess.Popen(
            self.argv,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,  # Ctrl-C reaches the lab, which stops its children itself
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 5.0) -> int | None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(timeout_s)
        self._log.close()
        return self.proc.returncode

    def died(self) -> ChildDied:
        return ChildDied(
            f"{self.name} (pid {self.pid}) exited with code {self.proc.returncode}; last lines of {self.log_path}:\n"
            + self.log_tail()
        )

    def wait_until(self, ready: Callable[[], bool], timeout_s: float, what: str, interval_s: float = 0.05) -> None:
        """Poll ``ready()`` until it is true: ``died()`` if the process exits first, ``ChildDied`` on timeout.

        Every "wait until it is up" of the lab, the profile, the benchmarks and the tests goes through here.
        """
        deadline = time.monotonic() + timeout_s
        while True:
            if not self.alive():
                raise self.died()
            if ready():
                return
            if time.monotonic() >= deadline:
                raise ChildDied(f"{self.name} did not {what} within {timeout_s:g}s:\n{self.log_tail()}")
            time.sleep(interval_s)

    def wait_http(self, port: int, path: str, timeout_s: float = 20.0) -> None:
        """Wait until ``GET path`` on the loopback ``port`` answers 200 (``wait_until``)."""

        def answers() -> bool:
            with contextlib.suppress(OSError, http.client.HTTPException):
                return http_get(port, path, 1.0)[0] == 200
            return False

        self.wait_until(answers, timeout_s, f"answer 200 on GET {path} (port {port})")


class RedisServer(Child):
    """A ``redis-server`` on a free loopback port with a maxmemory bound and no persistence."""

    def __init__(
        self,
        log_dir: Path,
        *,
        maxmemory: str = "64mb",
        policy: str = "allkeys-lru",
        port: int | None = None,
        wait: bool = True,
    ) -> None:
        self.port = port or free_port()
        self.maxmemory = maxmemory
        self.policy = policy
        argv = [
            require("redis-server"),
            "--bind", LOOPBACK,
            "--port", str(self.port),
            "--maxmemory", maxmemory,
            "--maxmemory-policy", policy,
            "--save", "",
            "--appendonly", "no",
            "--protected-mode", "yes",
            "--dir", str(log_dir),
        ]  # fmt: skip
        super().__init__("redis-server", argv, log_dir / f"redis-{self.port}.log")
        if wait:  # wait=False: the caller holds the object (and can stop it) before waiting
            self.wait_ready()

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def wait_ready(self, timeout_s: float = 10.0) -> None:
        self.wait_until(self._pong, timeout_s, f"answer PING on port {self.port}")

    def _pong(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((LOOPBACK, self.port), 0.2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False


def api_argv(mode: str, port: int, extra: Sequence[str] = ()) -> list[str]:
    """How to start ``leaklab api`` with this interpreter (no PATH lookup needed)."""
    return [sys.executable, "-m", "leaklab_api", "--mode", mode, "--port", str(port), *extra]


class ApiServer(Child):
    """A ``leaklab api`` process on a free loopback port, started and waited for until healthy."""

    def __init__(
        self,
        log_dir: Path,
        mode: str,
        *,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        port: int | None = None,
        argv_prefix: Sequence[str] = (),
        wait: bool = True,
    ) -> None:
        self.mode = mode
        self.port = port or free_port()
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEAKLAB_")}
        full_env.update(env or {})
        argv = [*argv_prefix, *api_argv(mode, self.port, extra_args)]
        super().__init__(f"leaklab api ({mode})", argv, log_dir / f"api-{mode}-{self.port}.log", full_env)
        if wait:
            self.wait_healthy()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def debug_port(self) -> int:
        """The API serves ``/debug/memory`` (the allocation sites) on its own port."""
        return self.port

    @property
    def metrics_port(self) -> int:
        return self.port

    def wait_healthy(self, timeout_s: float = 20.0) -> None:
        self.wait_http(self.port, "/healthz", timeout_s)

    def get(self, path: str, timeout_s: float = 5.0) -> tuple[int, dict[str, str], bytes]:
        return http_get(self.port, path, timeout_s)
