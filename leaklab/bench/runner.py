"""``leaklab bench``: run every contestant fresh, in interleaved rounds, and report medians and ratios.

Per contestant and round: start it on a free loopback port, send a fixed count of requests (memory
columns: RSS before and after, so growth divides by a known count), time ``/metrics`` scrapes (API
modes), then a timed load run (requests/s, p50/p99, server CPU per request, RSS at the end).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import shlex
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

from leaklab.args import choice_list, number
from leaklab.procs import ChildDied, MissingBinary, http_get, require
from leaklab.scrape import Samples, parse_metrics

from . import load, report
from .servers import SPECS, Running, Spec, cpu_seconds, install_node_deps, node_available, rss_bytes, start

DEFAULT_OUT = Path("bench/out")


@dataclass
class RoundResult:
    """Everything measured for one contestant in one round."""

    server: str
    round: int
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float
    rss_start_bytes: int
    rss_after_count_bytes: int
    rss_end_bytes: int
    count_requests: int
    count_errors: int
    leaked_bytes_per_request: float
    metrics_scrape_ms: float | None = None
    metrics_scrape_max_ms: float | None = None
    cache_entries: float | None = None
    redis_maxmemory_bytes: int | None = None
    redis_max_used_memory_bytes: int | None = None
    redis_entry_bytes: int | None = None
    cache_errors: float | None = None  # API modes: leaklab_cache_errors_total (requests that went around the cache)
    extra: dict[str, Any] = field(default_factory=dict)


def memory_size(text: str) -> str:
    if not re.fullmatch(r"\d+(?:[kmg]b?)?", text.lower()):
        raise argparse.ArgumentTypeError(f"must be a size like 64mb or 1gb (got {text!r})")
    return text


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Benchmark each API mode against the story's Node.js server and two ceilings, side by side.",
    )
    parser.add_argument(
        "--servers",
        type=choice_list(list(SPECS), "server"),
        default=list(SPECS),
        help="comma-separated, default all: " + ",".join(SPECS),
    )
    parser.add_argument("--rounds", type=number(int, 1), default=3, help="rounds, servers interleaved (default 3)")
    parser.add_argument(
        "--duration", type=number(float, 0.5, 3600), default=6.0, help="seconds of timed load (default 6)"
    )
    parser.add_argument(
        "--requests", type=number(int, 1), default=10_000, help="fixed-count run for the memory columns (default 10000)"
    )
    parser.add_argument("--connections", type=number(int, 1), default=100, help="concurrent connections (default 100)")
    parser.add_argument("--threads", type=number(int, 1), default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--load-tool", choices=["auto", "wrk", "locust"], default="auto", help="default: wrk when installed"
    )
    parser.add_argument(
        "--redis-maxmemory", type=memory_size, default="64mb", help="maxmemory of redis mode's redis-server (64mb)"
    )
    parser.add_argument(
        "--payload-items",
        type=number(int, 1),
        default=10_000,
        help='"xxxx" items per payload (default 10000, as the Node.js server always sends)',
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where bench.json and logs go (bench/out)")
    parser.add_argument("--markdown", type=Path, help="update the generated section of this file (BENCHMARKS.md)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab bench") -> int:
    args = build_parser(prog).parse_args(argv)
    if args.connections < args.threads:
        return _error(prog, f"--connections ({args.connections}) must be at least --threads ({args.threads})")
    tool = load.pick_tool(args.load_tool)
    notes: list[str] = []
    needed = [("wrk", "or use --load-tool locust")] if tool == "wrk" else []
    if "redis" in args.servers:
        needed.append(("redis-server", "or leave redis out with --servers"))
    for name, alternative in needed:
        try:
            require(name)
        except MissingBinary as exc:
            return _error(prog, f"{exc} ({alternative})")
    if tool == "locust":
        notes.append("wrk is not installed: load from Locust FastHttpUser, which tops out near 2k requests/s here")
    specs = [SPECS[name] for name in args.servers]
    if any(spec.kind == "node" for spec in specs):
        reason = node_available()
        if reason is None:
            try:
                install_node_deps()
            except ChildDied as exc:
                reason = str(exc)
        if reason is not None:
            specs = [spec for spec in specs if spec.kind != "node"]
            notes.append(f"Node.js servers skipped: {reason}")
            print(f"{prog}: Node.js servers skipped: {reason}", file=sys.stderr)
    if not specs:
        return _error(prog, "no server left to benchmark")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _error(prog, f"cannot create --out {args.out}: {exc.strerror}")
    log_dir = (args.out / "logs").resolve()
    log_dir.mkdir(exist_ok=True)

    results: list[RoundResult] = []
    started = time.monotonic()
    estimate_s = args.rounds * len(specs) * (args.duration + 1.5 + args.requests / 5000)
    print(
        f"{prog}: {len(specs)} servers x {args.rounds} rounds with {tool}, about {estimate_s / 60:.0f} min; "
        f"logs in {log_dir}",
        file=sys.stderr,
        flush=True,
    )
    for round_no in range(args.rounds):
        # Rotate the order each round so drift on a noisy machine hits every server alike.
        order = specs[round_no % len(specs) :] + specs[: round_no % len(specs)]
        for spec in order:
            print(f"{prog}: round {round_no + 1}/{args.rounds}: {spec.name} ...", file=sys.stderr, flush=True)
            try:
                result = run_one(spec, round_no, args, tool, log_dir)
            except (ChildDied, load.LoadError, OSError, TimeoutError) as exc:
                return _error(prog, f"{spec.name}: {exc}".splitlines()[0] + f" (logs in {log_dir})")
            results.append(result)
            print(f"{prog}:   {report.progress_line(result)}", file=sys.stderr, flush=True)

    summary = report.summarise(results, [spec.name for spec in specs], payload_items=args.payload_items)
    command = "leaklab bench " + shlex.join(list(argv if argv is not None else sys.argv[2:]))
    document = report.document(args, tool, command, summary, results, notes, time.monotonic() - started)
    json_path = args.out / "bench.json"
    report.write_json(json_path, document)
    report.print_table(document)
    print(f"\nwrote {json_path}", file=sys.stderr)
    if args.markdown is not None:
        try:
            report.update_markdown(args.markdown, document)
        except OSError as exc:
            return _error(prog, f"cannot update {args.markdown}: {exc.strerror}")
        print(f"updated {args.markdown}", file=sys.stderr)
    return 0


def run_one(spec: Spec, round_no: int, args: argparse.Namespace, tool: str, log_dir: Path) -> RoundResult:
    running = start(spec, log_dir, redis_maxmemory=args.redis_maxmemory, payload_items=args.payload_items)
    sampler = _RedisSampler(running) if running.redis is not None else None
    try:
        rss_start = rss_bytes(running.pid)
        ok, count_errors, _ = load.fixed_count(running.url, requests=args.requests, connections=args.connections)
        rss_after = rss_bytes(running.pid)
        scrape_ms, scrape_max_ms, entries = _time_scrapes(running) if spec.kind == "api" else (None, None, None)
        cpu_before = cpu_seconds(running.pid)
        timed = load.timed(
            tool,
            running.url,
            seconds=args.duration,
            connections=args.connections,
            threads=args.threads,
            log=log_dir / f"load-{spec.name}-r{round_no + 1}.txt",
        )
        cpu_used = cpu_seconds(running.pid) - cpu_before
        rss_end = rss_bytes(running.pid)
        if not running.child.alive():
            raise running.child.died()
        cache_errors = _scrape(running).value("leaklab_cache_errors_total") if spec.kind == "api" else None
    finally:
        if sampler is not None:
            sampler.stop()
        running.stop()
    result = RoundResult(
        server=spec.name,
        round=round_no + 1,
        rps=timed.rps,
        p50_ms=timed.p50_ms,
        p99_ms=timed.p99_ms,
        requests=timed.requests,
        errors=timed.errors,
        cpu_ms_per_request=1000 * cpu_used / max(timed.requests, 1),
        rss_start_bytes=rss_start,
        rss_after_count_bytes=rss_after,
        rss_end_bytes=rss_end,
        count_requests=ok,
        count_errors=count_errors,
        leaked_bytes_per_request=(rss_after - rss_start) / max(ok, 1),
        metrics_scrape_ms=scrape_ms,
        metrics_scrape_max_ms=scrape_max_ms,
        cache_entries=entries,
        cache_errors=cache_errors,
    )
    if sampler is not None:
        result.redis_maxmemory_bytes = sampler.maxmemory
        result.redis_max_used_memory_bytes = sampler.max_used
        result.redis_entry_bytes = sampler.entry_bytes
    return result


def _time_scrapes(running: Running, scrapes: int = 20) -> tuple[float, float, float | None]:
    """Median and worst time of a ``/metrics`` scrape, and the cache entries it reports."""
    times = []
    body = b""
    for _ in range(scrapes):
        began = time.perf_counter()
        body = _get_metrics(running)
        times.append(1000 * (time.perf_counter() - began))
    return statistics.median(times), max(times), parse_metrics(body.decode()).value("leaklab_cache_entries")


def _scrape(running: Running) -> Samples:
    return parse_metrics(_get_metrics(running).decode())


def _get_metrics(running: Running) -> bytes:
    status, _, body = http_get(running.port, "/metrics", 10.0)
    if status != 200:
        raise ChildDied(f"{running.spec.name}: /metrics answered {status}")
    return body


class _RedisSampler:
    """Polls redis-server's ``used_memory`` while a redis-mode API runs; keeps the peak."""

    def __init__(self, running: Running, interval_s: float = 0.05) -> None:
        import redis

        assert running.redis is not None
        self._client = redis.Redis.from_url(running.redis.url, socket_timeout=2)
        self.maxmemory = int(cast(dict[str, str], self._client.config_get("maxmemory"))["maxmemory"])
        self.max_used = 0
        self.entry_bytes: int | None = None
        self._interval_s = interval_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="redis-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._done.is_set():
            self._sample()
            self._done.wait(self._interval_s)

    def _sample(self) -> None:
        with contextlib.suppress(Exception):
            used = int(self._client.info("memory")["used_memory"])
            self.max_used = max(self.max_used, used)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
        self._sample()
        with contextlib.suppress(Exception):
            key = cast(bytes | None, self._client.randomkey())
            if key is not None:
                self.entry_bytes = int(self._client.memory_usage(key) or 0)
        self._client.close()


def _error(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def as_dict(result: RoundResult) -> dict[str, Any]:
    return asdict(result)
