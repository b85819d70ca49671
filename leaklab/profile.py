"""``leaklab profile``: the API under memray for a bounded time with the story's load, then the leaking line.

Writes, next to memray's capture file: ``flamegraph.html`` (what held memory at its peak),
``leaks.html`` (what was never freed before the API exited) and ``summary.md``/``summary.json``, which
name the top allocator: the source line whose memory grew most while the load ran, with its share.
The share is computed like ``GET /debug/memory`` does with tracemalloc: of all growth since the load
started (the story's 99.81% is such a share).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import linecache
import os
import re
import signal
import subprocess
import sys
import sysconfig
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .load import LOCUSTFILE, LoadOptions, Locust
from .procs import INSTALL_HINTS, LOOPBACK, Child, ChildDied, MissingBinary, RedisServer, free_port, http_get
from .scrape import scrape

MODES = ("leaky", "lru", "redis")
PROJECT = Path(__file__).resolve().parent.parent
TOP_SITES = 10
FINISH_TIMEOUT_S = 120.0  # memray compresses its capture file on exit; large captures take a while


class ProfileError(RuntimeError):
    """The profile could not be taken; the message says why."""


@dataclass(frozen=True, slots=True)
class Site:
    """One allocating source line: what it held at the peak and how much of that grew under load."""

    site: str
    function: str
    line: str
    bytes: int
    count: int
    growth_bytes: int
    share: float  # of all growth since the load started, 0 to 1
    share_of_peak: float


def parse_duration(text: str) -> int:
    """``20s``, ``2m``, ``1m30s`` or plain seconds, as whole seconds from 1 to 3600."""
    match = re.fullmatch(r"\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*", text)
    if not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"invalid duration {text!r}: use seconds like 20s, or minutes like 2m")
    seconds = int(match[1] or 0) * 60 + int(match[2] or 0)
    if not 1 <= seconds <= 3600:
        raise argparse.ArgumentTypeError(f"duration must be between 1s and 60m (got {text!r})")
    return seconds


def _bounded(kind: type[int] | type[float], low: float, high: float, what: str) -> Any:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{what} must be a number from {low:g} to {high:g} (got {text!r})"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} must be from {low:g} to {high:g} (got {text!r})")
        return value

    return parse


def build_parser(prog: str = "leaklab profile") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Run the API under memray while Locust's StoryUser drives it, then write a flame graph, "
            "a leaks view and a summary naming the line that holds the memory."
        ),
        epilog=(
            "Leaky mode keeps one ~70 KB payload per request, about users / wait-s requests a second: "
            "10 users at 0.1 s for 20 s keep ~140 MB. Needs memray (Linux or macOS)."
        ),
    )
    parser.add_argument("--mode", choices=MODES, default="leaky", help="cache mode of the API (default leaky)")
    parser.add_argument("--duration", type=parse_duration, default=20, help="how long the load runs (default 20s)")
    parser.add_argument("--users", type=_bounded(int, 1, 500, "--users"), default=10, help="Locust users (default 10)")
    parser.add_argument(
        "--wait-s",
        type=_bounded(float, 0, 60, "--wait-s"),
        default=0.1,
        help="mean seconds each user waits between requests; 0 = as fast as possible (default 0.1)",
    )
    parser.add_argument("--out", type=Path, help="output directory (default profiles/MODE-YYYYmmdd-HHMMSS)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab profile") -> int:
    args = build_parser(prog).parse_args(argv)
    out: Path = args.out or PROJECT / "profiles" / f"{args.mode}-{datetime.now():%Y%m%d-%H%M%S}"
    try:
        require_memray()
        summary = profile(args.mode, out, duration_s=args.duration, users=args.users, wait_s=args.wait_s)
    except (MissingBinary, ChildDied, ProfileError, OSError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 1
    print(summary["paragraph"])
    print()
    width = max(len(name) for name in summary["files"])
    for name, path in summary["files"].items():
        print(f"  {name:<{width}}  {path}")
    return 0


def require_memray() -> None:
    if importlib.util.find_spec("memray") is None:
        raise ProfileError(f"memray is not installed for {sys.executable}: {INSTALL_HINTS['memray']}")


def profile(
    mode: str, out: Path, *, duration_s: int, users: int, wait_s: float, locustfile: Path = LOCUSTFILE
) -> dict[str, Any]:
    """Capture ``mode`` under load into ``out``, render memray's views and write the summary; return it."""
    out.mkdir(parents=True, exist_ok=True)
    capture = out / f"memray-{mode}.bin"
    load = LoadOptions(duration_s, users, float(users), "StoryUser", wait_s, locustfile=locustfile)
    redis: RedisServer | None = None
    api: ProfiledApi | None = None
    try:
        extra: list[str] = []
        if mode == "redis":
            redis = RedisServer(out, maxmemory="64mb")
            extra = ["--redis-url", redis.url]
        api = ProfiledApi(out, mode, capture, extra)
        print(f"profiling {mode} mode under memray: {users} users for {duration_s}s (pid {api.pid})", file=sys.stderr)
        load_start = time.time()
        locust = Locust(out, out / "locust", api.url, load)
        try:
            locust.proc.wait(duration_s + 60)
        except subprocess.TimeoutExpired:
            raise ProfileError(f"Locust did not stop after its {duration_s}s run; see {locust.log_path}") from None
        finally:
            locust.stop()
        stats = locust.final()
        if not api.alive():
            raise api.died()
        served = _served(api.port)
        api.finish()
    finally:
        if api is not None:
            api.stop()
        if redis is not None:
            redis.stop()
    if stats is None:
        raise ProfileError(f"Locust wrote no stats; see {locust.log_path}")
    print("rendering memray's flame graphs", file=sys.stderr)
    files = {
        "flamegraph": _render(capture, out / "flamegraph.html"),
        "leaks": _render(capture, out / "leaks.html", "--leaks"),
    }
    peak, baseline, sites = top_sites(capture, load_start)
    leaked = leaked_sites(capture)
    summary: dict[str, Any] = {
        "mode": mode,
        "duration_s": duration_s,
        "users": users,
        "wait_s": wait_s,
        "requests": served if served is not None else stats.requests,
        "failures": stats.failures,
        "peak_bytes": peak,
        "load_start_bytes": baseline,
        "top_sites": [asdict(s) for s in sites],
        "leaked_sites": [asdict(s) for s in leaked],
    }
    summary["paragraph"] = paragraph(summary)
    files["capture"] = capture
    files["summary_md"] = out / "summary.md"
    files["summary_json"] = out / "summary.json"
    summary["files"] = {name: str(path) for name, path in files.items()}
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "summary.md").write_text(markdown(summary))
    return summary


def _served(port: int) -> int | None:
    """``GET /data`` requests the API answered, from its own ``/metrics`` (Locust's CSV can lag a second)."""
    try:
        samples = scrape(port, timeout_s=10.0)
    except (OSError, RuntimeError):
        return None
    return int(sum(v for k, v in samples.with_prefix("http_requests_total").items() if 'handler="/data"' in k))


class ProfiledApi(Child):
    """``python -m memray run -m leaklab_api`` on a free port; ``finish()`` lets memray close its capture."""

    def __init__(self, log_dir: Path, mode: str, capture: Path, extra_args: Sequence[str] = ()) -> None:
        self.port = free_port()
        argv = [
            sys.executable, "-m", "memray", "run", "--quiet", "--force", "--output", str(capture),
            "-m", "leaklab_api", "--mode", mode, "--port", str(self.port), *extra_args,
        ]  # fmt: skip
        # memray's docs: with pymalloc, freed small objects stay in its arenas and look leaked
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEAKLAB_")} | {"PYTHONMALLOC": "malloc"}
        super().__init__(f"leaklab api ({mode}) under memray", argv, log_dir / f"api-{mode}.log", env)
        self.url = f"http://{LOOPBACK}:{self.port}"
        self._wait_healthy(60.0)  # tracking every allocation makes start-up several times slower

    def _wait_healthy(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.alive():
                raise self.died()
            with contextlib.suppress(OSError):
                if http_get(self.port, "/healthz", 0.5)[0] == 200:
                    return
            time.sleep(0.1)
        raise ChildDied(f"{self.name} was not healthy on port {self.port} within {timeout_s:g}s:\n{self.log_tail()}")

    def finish(self) -> None:
        """SIGINT, as Ctrl-C would: uvicorn shuts down and memray writes and closes its capture file."""
        # SIGTERM would not do: uvicorn re-raises it after its shutdown and the default action
        # kills the process before memray has finished the file.
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(FINISH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise ProfileError(f"memray did not finish its capture within {FINISH_TIMEOUT_S:g}s") from None
        if code != 0:
            raise ProfileError(f"the API under memray exited with code {code}:\n{self.log_tail()}")


def _render(capture: Path, html: Path, *flags: str) -> Path:
    """``memray flamegraph`` with its assets inlined (``--no-web``), so the page works offline."""
    argv = [sys.executable, "-m", "memray", "flamegraph", *flags, "--no-web", "--force", "--output", str(html)]
    done = subprocess.run([*argv, str(capture)], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not html.exists():
        raise ProfileError(f"memray flamegraph {' '.join(flags)} failed: {(done.stderr or done.stdout).strip()}")
    return html


Location = tuple[str, str, int]  # function, file, line


def top_sites(capture: Path, load_start: float, limit: int = TOP_SITES) -> tuple[int, int, list[Site]]:
    """Peak heap, heap when the load started, and the sites that grew most in between.

    Bytes at the peak come from memray's high-water-mark records (what ``flamegraph.html`` shows);
    what each site held when the load started comes from its temporal records, whose intervals say
    in which ~10 ms snapshot each allocation was made and freed.
    """
    from memray import FileReader

    with FileReader(str(capture)) as reader:
        peak_bytes: Counter[Location] = Counter()
        peak_count: Counter[Location] = Counter()
        for record in reader.get_high_watermark_allocation_records(merge_threads=True):
            where = _location(record.stack_trace(1))
            peak_bytes[where] += record.size
            peak_count[where] += record.n_allocations
        snapshots = [s.time for s in reader.get_memory_snapshots()]
        start = sum(1 for t in snapshots if t < load_start * 1000)  # index of the load's first snapshot
        at_start: Counter[Location] = Counter()
        records, _ = reader.get_temporal_high_water_mark_allocation_records(merge_threads=True)
        for temporal in records:
            held = sum(
                i.n_bytes
                for i in temporal.intervals
                if i.allocated_before_snapshot <= start
                and (i.deallocated_before_snapshot is None or i.deallocated_before_snapshot > start)
            )
            if held:
                at_start[_location(temporal.stack_trace(1))] += held
    peak = sum(peak_bytes.values())
    growth = {where: size - at_start[where] for where, size in peak_bytes.items()}
    growth_total = sum(g for g in growth.values() if g > 0)
    ranked = sorted(growth, key=lambda w: (growth[w], peak_bytes[w]), reverse=True)[:limit]
    sites = [
        _site(
            where,
            peak_bytes[where],
            peak_count[where],
            growth[where],
            growth[where] / growth_total if growth_total and growth[where] > 0 else 0.0,
            peak_bytes[where] / peak if peak else 0.0,
        )
        for where in ranked
    ]
    return peak, sum(at_start.values()), sites


def leaked_sites(capture: Path, limit: int = 5) -> list[Site]:
    """The sites whose memory was still allocated when tracking ended (what ``leaks.html`` shows)."""
    from memray import FileReader

    sizes: Counter[Location] = Counter()
    counts: Counter[Location] = Counter()
    with FileReader(str(capture)) as reader:
        for record in reader.get_leaked_allocation_records(merge_threads=True):
            where = _location(record.stack_trace(1))
            sizes[where] += record.size
            counts[where] += record.n_allocations
    total = sum(sizes.values())
    return [
        _site(where, size, counts[where], size, size / total if total else 0.0, size / total if total else 0.0)
        for where, size in sizes.most_common(limit)
    ]


def _location(stack: Sequence[tuple[str, str, int]]) -> Location:
    return stack[0] if stack else ("<unknown>", "<unknown>", 0)


def _site(where: Location, size: int, count: int, growth: int, share: float, share_of_peak: float) -> Site:
    function, filename, lineno = where
    return Site(
        site=f"{_relative(filename)}:{lineno}",
        function=function,
        line=linecache.getline(filename, lineno).strip(),
        bytes=size,
        count=count,
        growth_bytes=growth,
        share=round(share, 6),
        share_of_peak=round(share_of_peak, 6),
    )


def _relative(filename: str) -> str:
    path = Path(filename)
    # site-packages first: the project's .venv may live inside the project
    roots = [(Path(sysconfig.get_paths()[key]), "site-packages/") for key in ("purelib", "platlib")]
    roots += [(Path(sysconfig.get_paths()["stdlib"]), "stdlib/"), (PROJECT, "")]
    for root, prefix in roots:
        if path.is_absolute() and path.is_relative_to(root):
            return prefix + path.relative_to(root).as_posix()
    return filename


def _mb(size: float) -> str:
    return f"{size / 1e6:,.1f} MB"


def paragraph(summary: dict[str, Any]) -> str:
    """One paragraph a learner can act on: the top allocator, its bytes and its share."""
    sites = summary["top_sites"]
    head = (
        f"In {summary['mode']} mode, under {summary['duration_s']} s of StoryUser load "
        f"({summary['requests']:,} requests, {summary['failures']:,} failed), the API's heap went from "
        f"{_mb(summary['load_start_bytes'])} when the load started to {_mb(summary['peak_bytes'])} at its peak."
    )
    if not sites or sites[0]["growth_bytes"] <= 0:
        return head + " No source line's memory grew while the load ran."
    top = sites[0]
    text = (
        f"{head} The top allocator is {top['site']} in {top['function']}()"
        + (f", `{top['line']}`" if top["line"] else "")
        + f": {_mb(top['growth_bytes'])} of the growth ({top['share']:.1%}) in {top['count']:,} allocations "
        f"still alive at the peak ({top['share_of_peak']:.1%} of the peak heap)."
    )
    if top["share"] < 0.5:
        return text + " No single line holds most of the growth: nothing piles up in one place."
    requests = summary["requests"] or 1
    per_request, bytes_per_request = top["count"] / requests, top["growth_bytes"] / requests
    if per_request >= 0.5 and bytes_per_request >= 1000:
        return text + (
            f" That is {per_request:.1f} allocation ({bytes_per_request / 1000:,.1f} KB) kept per request: this "
            "line's memory grows with every request and is never given back. It is the leak."
        )
    return text + (
        f" It holds {top['count']:,} allocations after {summary['requests']:,} requests: a bounded set rather "
        "than one per request, so this memory does not grow with the traffic."
    )


def markdown(summary: dict[str, Any]) -> str:
    files = summary["files"]
    lines = [
        f"# memray profile: {summary['mode']} mode",
        "",
        summary["paragraph"],
        "",
        "| # | site | function | grew | share of growth | held at peak | allocations |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for rank, s in enumerate(summary["top_sites"][:5], start=1):
        lines.append(
            f"| {rank} | `{s['site']}` | {s['function']} | {_mb(s['growth_bytes'])} | {s['share']:.1%} "
            f"| {_mb(s['bytes'])} | {s['count']:,} |"
        )
    leaked = summary["leaked_sites"]
    if leaked:
        lines += [
            "",
            f"Still allocated when the API exited (leaks view): `{leaked[0]['site']}` in {leaked[0]['function']}() "
            f"with {_mb(leaked[0]['bytes'])} ({leaked[0]['share']:.1%}).",
        ]
        top = summary["top_sites"][0] if summary["top_sites"] else None
        if top and top["share"] >= 0.5 and all(s["site"] != top["site"] for s in leaked):
            lines[-1] += (
                f" The memory held at `{top['site']}` was freed when the API shut down (it empties its cache "
                "on the way out), so the leaks view does not show it: the peak flame graph does."
            )
    lines += [
        "",
        "Files:",
        "",
        f"- `{files['flamegraph']}`: flame graph of the allocations alive at the peak; the widest bar at the "
        "top of a stack is the line that holds the memory.",
        f"- `{files['leaks']}`: allocations never freed before the API exited (memray's `--leaks` view).",
        f"- `{files['capture']}`: memray's capture; try `python -m memray flamegraph --temporal` or "
        "`python -m memray summary` on it.",
        "",
    ]
    return "\n".join(lines)
