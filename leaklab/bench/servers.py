"""The contestants: our API in each mode, the story's Node.js server, and the two ceilings.

Each is started fresh on a free loopback port for every round and stopped by its PID afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from leaklab.procs import ApiServer, Child, ChildDied, MissingBinary, RedisServer, free_port, require, rss_bytes

from .ceiling import CEILING_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = REPO_ROOT / "bench" / "peers" / "node"


@dataclass(frozen=True)
class Spec:
    """One contestant: how to start it and which path the load targets."""

    name: str
    kind: str  # api | node | ceiling
    variant: str  # api: cache mode; node: leaky|lru; ceiling: fastapi|asgi
    path: str
    description: str

    @property
    def leaks(self) -> bool:
        return self.variant == "leaky"


SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec("leaky", "api", "leaky", "/data", "our API, leaky mode (the story's bug)"),
        Spec("lru", "api", "lru", "/data", "our API, in-process LRU of 50 (the story's fix)"),
        Spec("redis", "api", "redis", "/data", "our API, Redis with maxmemory + allkeys-lru"),
        Spec("node-leaky", "node", "leaky", "/", "the story's Node.js server, plain object cache"),
        Spec("node-lru", "node", "lru", "/", "the story's Node.js server, lru-cache max 50"),
        Spec("fastapi-ceiling", "ceiling", "fastapi", CEILING_PATH, "the API app, route returning the body as is"),
        Spec("asgi-ceiling", "ceiling", "asgi", "/", "bare ASGI app returning the body, same uvicorn"),
    )
}


class Running:
    """A started contestant: its process, port and (redis mode) its own redis-server."""

    def __init__(self, spec: Spec, child: Child, port: int, redis: RedisServer | None = None) -> None:
        self.spec = spec
        self.child = child
        self.port = port
        self.redis = redis

    @property
    def pid(self) -> int:
        return self.child.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.spec.path}"

    def stop(self) -> None:
        self.child.stop()
        if self.redis is not None:
            self.redis.stop()


def node_available() -> str | None:
    """Why the Node.js servers cannot run here, or None when they can."""
    for name in ("node", "npm"):
        try:
            require(name)
        except MissingBinary as exc:
            return str(exc)
    return None


def install_node_deps() -> None:
    """``npm ci`` the pinned ``uuid`` and ``lru-cache`` into bench/peers/node/node_modules (git-ignored)."""
    npm = require("npm")
    lock = NODE_DIR / "package-lock.json"
    marker = NODE_DIR / "node_modules" / ".package-lock.json"
    if marker.exists() and lock.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return  # already installed from this lock file
    command = "ci" if lock.exists() else "install"
    result = subprocess.run(
        [npm, command, "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise ChildDied(f"npm {command} in {NODE_DIR} failed: {detail[-1] if detail else result.returncode}")


def start(spec: Spec, log_dir: Path, *, redis_maxmemory: str, payload_items: int) -> Running:
    """Start ``spec`` fresh on a free port and wait until it answers."""
    port = free_port()
    if spec.kind == "api":
        redis = RedisServer(log_dir, maxmemory=redis_maxmemory) if spec.variant == "redis" else None
        env = {"LEAKLAB_ORIGIN_LATENCY_MS": "0", "LEAKLAB_PAYLOAD_ITEMS": str(payload_items)}
        if redis is not None:
            env["LEAKLAB_REDIS_URL"] = redis.url
        try:
            api = ApiServer(log_dir, spec.variant, env=env, port=port)
        except Exception:
            if redis is not None:
                redis.stop()
            raise
        return Running(spec, api, port, redis)
    if spec.kind == "node":
        argv = [require("node"), str(NODE_DIR / "server.js"), "--mode", spec.variant, "--port", str(port)]
        child = Child(spec.name, argv, log_dir / f"{spec.name}-{port}.log")
    else:
        argv = [sys.executable, "-m", "leaklab.bench.ceiling", spec.variant, "--port", str(port)]
        argv += ["--payload-items", str(payload_items)]
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEAKLAB_")}
        child = Child(spec.name, argv, log_dir / f"{spec.name}-{port}.log", env)
    running = Running(spec, child, port)
    try:
        child.wait_http(port, spec.path)
    except Exception:
        child.stop()
        raise
    return running


def rss_bytes_of(running: Running) -> int:
    """Resident memory of a running contestant; ``ChildDied`` when it is gone."""
    rss = rss_bytes(running.pid)
    if rss is None:
        raise running.child.died()
    return rss


def cpu_seconds(pid: int) -> float:
    """User + system CPU time ``pid`` has used so far (/proc/PID/stat utime + stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
