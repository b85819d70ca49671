"""What the lab's experiment runs on: a target, started and restarted by the runner, loaded, sampled, judged.

Three kinds: the lab's own API (a cache mode or a catalogue scenario, ``ApiTarget`` here), the user's
ASGI/WSGI app served by the lab's launcher, and any command serving HTTP (both in ``app/target.py``).
The runner (``runner.py``) holds a target and the ``Server`` processes it spawns, never a cache mode, so
the memory limit, the load, the sampler, the allocation sites, the verdict and the report are the same
for each.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from ..procs import ApiServer, ChildDied, RedisServer, rss_bytes
from .catalogue import api_launch
from .load import LoadOptions
from .options import LabOptions


class Server(Protocol):
    """One started process of a target (a new one after each restart)."""

    name: str
    port: int  # where the load goes
    proc: subprocess.Popen[bytes]

    @property
    def pid(self) -> int: ...
    @property
    def url(self) -> str: ...
    @property
    def debug_port(self) -> int | None:
        """Where ``/debug/memory`` answers (the allocation sites); None: nothing there to trace."""

    @property
    def metrics_port(self) -> int | None:
        """Where the sampler reads the lab's ``/metrics`` (cache state); None: the target has none of ours."""

    def alive(self) -> bool: ...
    def stop(self, timeout_s: float = 5.0) -> int | None: ...
    def wait_healthy(self) -> None: ...
    def log_tail(self, lines: int = 20) -> str: ...
    def died(self) -> ChildDied: ...


class Target:
    """A thing to run the experiment on; subclasses say how to start it and what can be seen of it."""

    name: str  # the run's name in the live view, the summary and the report
    own = False  # the user's service: its failure to start is bad input (exit 2), not the lab's failure

    @property
    def slug(self) -> str:
        """The name as it can appear in a file or cgroup name."""
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", self.name).strip("-") or "target"

    def prepare(self, logs: Path) -> None:
        """Start what the target needs beside it (Redis for the redis mode), once per run."""

    def spawn(self, logs: Path, argv_prefix: Sequence[str], port: int | None = None) -> Server:
        """Start one process (not waited for); ``port`` is the previous one's, on a restart."""
        raise NotImplementedError

    def load(self, load: LoadOptions) -> LoadOptions:
        """The load this target gets (its locustfile and users)."""
        return load

    def rss(self, pid: int) -> int | None:
        """The resident memory the verdict judges, of the process ``spawn`` started."""
        return rss_bytes(pid)

    @property
    def redis_port(self) -> int | None:
        return None

    def describe(self) -> dict[str, Any] | None:
        """What the report says about the target beside the lab's settings; None for the lab's own API."""
        return None

    def close(self) -> None:
        """Stop what ``prepare`` started."""


class ApiTarget(Target):
    """The lab's API: ``leaklab api`` in a cache mode, or a catalogue scenario beside the LRU (``catalogue``)."""

    def __init__(self, name: str, opts: LabOptions) -> None:
        self.name = name
        self.opts = opts
        self.api_mode, scenario_args = api_launch(name)
        self.extra = ["--debug", *scenario_args, *opts.api_args]
        self.redis: RedisServer | None = None

    def prepare(self, logs: Path) -> None:
        if self.api_mode == "redis":
            self.redis = RedisServer(logs, maxmemory=self.opts.redis_maxmemory, policy="allkeys-lru", wait=False)
            self.redis.wait_ready()
            self.extra += ["--redis-url", self.redis.url]

    def spawn(self, logs: Path, argv_prefix: Sequence[str], port: int | None = None) -> Server:
        return ApiServer(logs, self.api_mode, extra_args=self.extra, port=port, argv_prefix=argv_prefix, wait=False)

    @property
    def redis_port(self) -> int | None:
        return self.redis.port if self.redis else None

    def close(self) -> None:
        if self.redis is not None:
            self.redis.stop()
