"""Load for the benchmark: wrk for a timed run (Locust when wrk is missing) and a fixed-count run.

The timed run gives requests/s and latency percentiles; the fixed-count run (the story's
``ab -n N -c 100``) sends exactly N requests so memory growth can be divided by a known count.
"""

from __future__ import annotations

import asyncio
import csv
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class LoadError(RuntimeError):
    """The load tool failed or printed something we cannot read."""


@dataclass(frozen=True)
class TimedResult:
    """What one timed run measured from the client side."""

    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float


def pick_tool(choice: str) -> str:
    """``wrk`` when installed (or asked for), else ``locust``."""
    if choice == "auto":
        return "wrk" if shutil.which("wrk") else "locust"
    return choice


def timed(tool: str, url: str, *, seconds: float, connections: int, threads: int, log: Path) -> TimedResult:
    if tool == "wrk":
        return _wrk(url, seconds=seconds, connections=connections, threads=threads, log=log)
    return _locust(url, seconds=seconds, connections=connections, log=log)


def _wrk(url: str, *, seconds: float, connections: int, threads: int, log: Path) -> TimedResult:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise LoadError(
            "'wrk' was not found on PATH: install it with 'sudo apt-get install wrk', or use --load-tool locust"
        )
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", url]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    log.write_text(out.stdout + out.stderr)
    if out.returncode != 0:
        raise LoadError(f"wrk exited with {out.returncode}: {(out.stderr or out.stdout).strip()[:200]}")
    return parse_wrk(out.stdout)


def parse_wrk(text: str) -> TimedResult:
    """Read requests, errors, duration, requests/s and the 50%/99% latency from ``wrk --latency``."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"^\s*50%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    p99 = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.M)
    if not (done and rps and p50 and p99):
        raise LoadError("could not read wrk's output (expected 'N requests in', 'Requests/sec' and --latency lines)")
    errors = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(non_2xx.group(1)) if non_2xx else 0
    return TimedResult(
        requests=int(done.group(1)),
        errors=errors,
        seconds=float(done.group(2)) * _UNITS_MS[done.group(3)] / 1000,
        rps=float(rps.group(1)),
        p50_ms=float(p50.group(1)) * _UNITS_MS[p50.group(2)],
        p99_ms=float(p99.group(1)) * _UNITS_MS[p99.group(2)],
    )


def _locust(url: str, *, seconds: float, connections: int, log: Path) -> TimedResult:
    """Locust FastHttpUser, headless; one Locust process tops out near 2k requests/s on 2 cores."""
    parts = urlsplit(url)
    prefix = log.with_suffix("")
    argv = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "--users", str(connections), "--spawn-rate", str(connections), "--run-time", f"{max(1, round(seconds))}s",
        "--host", f"{parts.scheme}://{parts.netloc}", "--bench-path", parts.path or "/",
        "--csv", str(prefix), "--loglevel", "WARNING", "--exit-code-on-error", "0",
    ]  # fmt: skip
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 90, check=False)
    log.write_text(out.stdout + out.stderr)
    stats = Path(f"{prefix}_stats.csv")
    if out.returncode != 0 or not stats.exists():
        raise LoadError(f"locust exited with {out.returncode}; see {log}")
    with stats.open() as fh:
        rows = [row for row in csv.DictReader(fh) if row.get("Name") == "Aggregated"]
    if not rows:
        raise LoadError(f"locust wrote no aggregated stats to {stats}")
    row = rows[0]
    if int(row["Request Count"]) == 0:  # Locust writes N/A percentiles then
        raise LoadError(f"locust sent no request in {seconds:g}s (a starved machine?); see {log}")
    return TimedResult(
        requests=int(row["Request Count"]),
        errors=int(row["Failure Count"]),
        seconds=seconds,
        rps=float(row["Requests/s"]),
        p50_ms=float(row["50%"]),
        p99_ms=float(row["99%"]),
    )


def fixed_count(url: str, *, requests: int, connections: int, timeout_s: float = 120.0) -> tuple[int, int, float]:
    """Send exactly ``requests`` GETs over ``connections`` keep-alive connections: (ok, errors, seconds)."""
    return asyncio.run(_fixed_count(url, requests, connections, timeout_s))


async def _fixed_count(url: str, requests: int, connections: int, timeout_s: float) -> tuple[int, int, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    remaining = requests
    ok = errors = 0

    async def worker() -> None:
        nonlocal remaining, ok, errors
        reader = writer = None
        while remaining > 0:
            remaining -= 1
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                assert reader is not None
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
                if length is None:
                    raise LoadError("response without Content-Length")
                await reader.readexactly(int(length.group(1)))
                if 200 <= status < 400:
                    ok += 1
                else:
                    errors += 1
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, LoadError):
                errors += 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(min(connections, requests)))), timeout_s)
    return ok, errors, time.perf_counter() - start
