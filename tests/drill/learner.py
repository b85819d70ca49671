"""An automated learner: finds a drill's hidden leak with only what the lab shows a person.

It reads ``/metrics`` and ``/debug/memory`` over HTTP and, for memory tracemalloc cannot see, runs
``leaklab attach --native`` on the port; it never reads the API's settings or environment.
"""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from leaklab.procs import LOOPBACK
from tests.load import BackgroundLoad

WARM_UP_REQUESTS = 60  # more than the LRU's 50 entries
NATIVE_MIN_RSS_GROWTH = 4_000_000  # bytes: enough growth to judge who can see it
NATIVE_MAX_TRACED_SHARE = 0.25  # traced growth below this part of RSS growth: the memory is not Python's


@dataclass
class Finding:
    answer: str
    evidence: str
    seconds: float


class Http:
    """One keep-alive connection to the API."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)

    def call(self, method: str, path: str) -> tuple[int, bytes]:
        self.conn.request(method, path)
        response = self.conn.getresponse()
        return response.status, response.read()

    def json(self, method: str, path: str) -> Any:
        return json.loads(self.call(method, path)[1])

    def close(self) -> None:
        self.conn.close()


def investigate(port: int, out: Path, requests: int = 150) -> Finding:
    """Trace, drive ``requests`` requests, read the top site; for native memory, attach memray."""
    started = time.monotonic()
    client = Http(port)
    try:
        client.json("POST", "/debug/memory/start")  # tracemalloc from now on
        for _ in range(WARM_UP_REQUESTS):  # bounded structures (the LRU) fill up first: not a leak
            client.call("GET", "/data")
        client.json("POST", "/debug/memory/baseline")  # growth from here on is what keeps growing
        for _ in range(requests):
            client.call("GET", "/data")
        memory = client.json("GET", "/debug/memory")
    finally:
        client.close()
    rss, traced = memory.get("rss_growth_bytes") or 0, memory.get("traced_growth_bytes") or 0
    if rss >= NATIVE_MIN_RSS_GROWTH and traced < NATIVE_MAX_TRACED_SHARE * rss:
        return _attach_native(port, out, started, f"RSS grew {rss:,} B, tracemalloc saw {traced:,} B")
    top = max(memory["sites"], key=lambda s: s["growth_bytes"])
    site = top["site"]
    if site.startswith(("site-packages/", "stdlib/")) and top.get("caller"):
        site = top["caller"].split()[0]  # the library line's caller in our code
    return Finding(f"{site} python", f"top site {top['site']} grew {top['growth_bytes']:,} B", _since(started))


def _attach_native(port: int, out: Path, started: float, why: str) -> Finding:
    client = Http(port)
    try:
        client.json("POST", "/debug/memory/stop")  # tracemalloc has said what it can; it only slows memray
    finally:
        client.close()
    argv = [sys.executable, "-m", "leaklab", "attach", "--port", str(port), "--native", "--duration", "3s"]
    # 500 requests keep ~33 MiB of the native leak: well under the 256 MiB limit
    with BackgroundLoad(port, threads=1, path="/data", pause_s=0.01, max_requests=500):
        done = subprocess.run([*argv, "--out", str(out)], capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise AssertionError(done.stderr)
    summary = json.loads((out / "summary.json").read_text())
    chain = summary["native_callers"][0]
    # what attach --native names and prints (its own tests leave the native stacks to this learner)
    assert chain["native"] != "<no native frame>", summary["native_callers"]  # a named C call
    assert chain["share"] >= 0.3, summary["native_callers"]
    assert f"native: {chain['native']}" in done.stdout
    match = re.match(r"(\S+:\d+) in ", chain["python"])
    assert match, chain
    return Finding(f"{match[1]} native", f"{why}; memray: {chain['native']} from {chain['python']}", _since(started))


def _since(started: float) -> float:
    return round(time.monotonic() - started, 1)
