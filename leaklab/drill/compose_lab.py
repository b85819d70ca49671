"""The drill on the Compose lab (``make lab-drill``): the same hidden scenario, in the ``api`` container.

The stack starts with the scenario in the api's environment only (``LEAKLAB_SCENARIO`` and
``LEAKLAB_HIDE_SCENARIO``, passed through ``compose.yaml``), Locust's master is told to start its
StoryUsers through its web API, and the fix recreates only the api. At the end the load stops and the
stack stays up for a look at Grafana (``make lab-down`` removes it).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..procs import ChildDied
from ..scrape import scrape
from ..verdict import Verdict
from .catalogue import Leak
from .lab import DrillLoad, phase_verdict, reading

PROJECT = Path(__file__).resolve().parents[2]
UP_TIMEOUT_S = 900.0  # the first run builds two images


def env_port(name: str, default: int) -> int:
    env = PROJECT / ".env"
    lines = env.read_text().splitlines() if env.exists() else []
    values = [line.split("=", 1)[1].strip() for line in lines if line.startswith(f"{name}=")]
    return int(values[-1]) if values and values[-1].isdigit() else default


@dataclass
class ComposeDrillLab:
    out: Path
    leak: Leak
    load: DrillLoad = field(default_factory=DrillLoad)
    compose: tuple[str, ...] = ("docker", "compose")
    fixed: bool = False
    restarts: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    port: int = field(default_factory=lambda: env_port("API_PORT", 8000))
    locust_port: int = field(default_factory=lambda: env_port("LOCUST_PORT", 8089))
    t0: float = field(default_factory=time.monotonic)
    _started_at: float | None = None
    _fixing: bool = False  # the fix's own restart is not counted as a crash

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _up(self, *services: str) -> None:
        env = os.environ | self.leak.env(fixed=self.fixed) | {"LEAKLAB_HIDE_SCENARIO": "true"}
        argv = [*self.compose, "--project-directory", str(PROJECT), "up", "-d", "--build", "--wait", *services]
        log = self.out / "logs" / "compose.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as f:
            done = subprocess.run(argv, env=env, stdout=f, stderr=subprocess.STDOUT, timeout=UP_TIMEOUT_S)
        if done.returncode != 0:
            raise ChildDied(f"docker compose up failed (see {log}); make lab-status shows which service")

    def start(self) -> None:
        self._up()
        if self.load.users:
            self._locust("/swarm", {"user_count": self.load.users, "spawn_rate": 1, "host": "http://api:8000"})

    def _locust(self, path: str, form: dict[str, Any] | None = None) -> None:
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{self.locust_port}{path}", data=data, timeout=10).close()

    def tick(self) -> str | None:
        try:
            samples = scrape(self.port, timeout_s=5.0)
        except (OSError, RuntimeError):
            return None
        started = samples.get("process_start_time_seconds")
        event = None
        if started and self._started_at and started != self._started_at and not self._fixing:
            self.restarts += 1
            event = f"the API restarted ({self.restarts}): killed at its memory limit?"
        self._started_at = started
        rss = samples.get("process_resident_memory_bytes")
        if rss:
            self.samples.append(reading(time.monotonic() - self.t0, rss, started or 0.0, self.fixed))
        return event

    def apply_fix(self) -> None:
        self._fixing = True
        self.fixed = True
        self._up("api")
        self._started_at = None
        self._fixing = False

    def verdict(self, *, fixed: bool) -> Verdict:
        return phase_verdict(self.samples, fixed=fixed)

    def stop(self) -> None:
        self._locust("/stop")
