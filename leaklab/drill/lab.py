"""The drill's lab: the API with the scenario hidden, under a memory limit and StoryUser load.

The API runs with ``LEAKLAB_HIDE_SCENARIO`` (its metrics, ``/healthz`` and log lines say ``hidden``)
and its ``/debug`` endpoints on, as in the local lab; it is restarted when the limit kills it, as Compose
would; ``apply_fix`` restarts it on the same port with the scenario's fix, so Locust keeps going.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..lab import limits
from ..lab.load import LoadOptions, Locust
from ..procs import LOOPBACK, Child, ChildDied, free_port, http_get, rss_bytes
from ..units import MIB, to_mib
from ..verdict import LEAKING, Series, Verdict, judge
from .catalogue import Leak

MAX_LOAD_S = 3600  # Locust stops by itself after an hour even if the drill is left open


@dataclass(frozen=True, slots=True)
class DrillLoad:
    users: int = 10
    wait_s: float = 0.5
    mem_limit_bytes: int = 256 * 1024**2


class HiddenApi(Child):
    """``python -m leaklab_api`` with the scenario in its environment only, never in a flag or a file name."""

    def __init__(self, log_dir: Path, port: int, env: dict[str, str], argv_prefix: list[str]) -> None:
        self.port = port
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LEAKLAB_")}
        full_env |= env | {"LEAKLAB_HIDE_SCENARIO": "true", "LEAKLAB_DEBUG": "true", "LEAKLAB_PORT": str(port)}
        argv = [*argv_prefix, sys.executable, "-m", "leaklab_api"]
        super().__init__("leaklab api", argv, log_dir / "api.log", full_env)

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise self.died()
            with contextlib.suppress(OSError, http.client.HTTPException):
                if http_get(self.port, "/healthz", 0.5)[0] == 200:
                    return
            time.sleep(0.05)
        raise ChildDied(f"the API was not healthy on port {self.port} within {timeout_s:g}s:\n{self.log_tail()}")


@dataclass
class DrillLab:
    """Start with ``start()``, call ``tick()`` about once a second, ``apply_fix()``, then ``stop()``."""

    out: Path
    leak: Leak
    load: DrillLoad = field(default_factory=DrillLoad)
    drive_load: bool = True
    port: int = field(default_factory=free_port)
    fixed: bool = False
    restarts: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)
    api: HiddenApi | None = None
    locust: Locust | None = None
    limit: limits.MemoryLimit | None = None
    t0: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self) -> None:
        self.limit, _ = limits.choose(self.load.mem_limit_bytes, "drill")
        self._start_api()
        if self.drive_load:
            options = LoadOptions(MAX_LOAD_S, self.load.users, float(self.load.users), "StoryUser", self.load.wait_s)
            self.locust = Locust(self.out / "logs", self.out / "logs" / "locust", self.url, options)

    def _start_api(self) -> None:
        assert self.limit is not None
        env = self.leak.env(fixed=self.fixed)
        self.api = HiddenApi(self.out / "logs", self.port, env, self.limit.argv_prefix())
        self.limit.attach(self.api.pid)
        self.api.wait_healthy()

    def tick(self) -> str | None:
        """Sample memory; restart the API if the limit killed it. Returns an event to record, if any."""
        assert self.api is not None
        if not self.api.alive():
            self.api.stop()
            self.restarts += 1
            self._start_api()
            return f"the API was killed at its memory limit and restarted ({self.restarts})"
        rss = rss_bytes(self.api.pid)
        if rss is not None:
            self.samples.append(reading(time.monotonic() - self.t0, rss, self.api.pid, self.fixed))
        return None

    def apply_fix(self) -> None:
        """Restart the API on the same port with the scenario's fix; the load keeps going."""
        assert self.api is not None
        self.api.stop()
        self.fixed = True
        self._start_api()

    def verdict(self, *, fixed: bool) -> Verdict:
        return phase_verdict(self.samples, fixed=fixed)

    def stop(self) -> None:
        if self.locust is not None:
            self.locust.stop()
        if self.api is not None:
            self.api.stop()
        if self.limit is not None:
            self.limit.close()


def reading(t_s: float, rss: float, process: float, fixed: bool) -> dict[str, Any]:
    """One sample of the drill: seconds since it started, RSS in MiB, the process, and the phase."""
    return {"t": round(t_s, 1), "rss_mib": round(to_mib(rss), 2), "process": process, "fixed": fixed}


def phase_verdict(samples: list[dict[str, Any]], *, fixed: bool) -> Verdict:
    """The lab's one judge on one phase (leaking, or with the fix): restarts, warm-up and refill included."""
    rows = [s for s in samples if s["fixed"] == fixed]
    return judge(Series([s["t"] for s in rows], [s["rss_mib"] * MIB for s in rows], [s["process"] for s in rows]))


def describe(v: Verdict | None) -> str:
    """A verdict in a few words, e.g. ``leaking +61.2 MiB/min``."""
    if v is None or v.rate_mib_per_min is None:
        return "too short to tell yet"
    rate = f"{v.rate_mib_per_min:+,.1f} MiB/min"
    return f"{v.verdict} ({rate})" if v.verdict != LEAKING else f"leaking {rate}"
