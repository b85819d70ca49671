"""What a memray capture says: the lines that held the most memory at the peak and grew under load.

Reads memray's own Python API (``memray.FileReader``) rather than its text reports, and writes the
one-paragraph summary and the Markdown table that ``leaklab profile`` prints and saves.
"""

from __future__ import annotations

import linecache
import sysconfig
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..units import KIB, mib, size

PROJECT = Path(__file__).resolve().parents[2]
TOP_SITES = 10


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


Location = tuple[str, str, int]  # function, file, line


def top_sites(
    capture: Path, load_start: float, limit: int = TOP_SITES, *, native: bool = False
) -> tuple[int, int, list[Site]]:
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
            where = _where(record, native)
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
                at_start[_where(temporal, native)] += held
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


def leaked_sites(capture: Path, limit: int = 5, *, native: bool = False) -> list[Site]:
    """The sites whose memory was still allocated when tracking ended (what ``leaks.html`` shows)."""
    from memray import FileReader

    sizes: Counter[Location] = Counter()
    counts: Counter[Location] = Counter()
    with FileReader(str(capture)) as reader:
        for record in reader.get_leaked_allocation_records(merge_threads=True):
            where = _where(record, native)
            sizes[where] += record.size
            counts[where] += record.n_allocations
    total = sum(sizes.values())
    return [
        _site(where, size, counts[where], size, size / total if total else 0.0, size / total if total else 0.0)
        for where, size in sizes.most_common(limit)
    ]


def _where(record: Any, native: bool) -> Location:
    """The Python line that made the allocation; with native stacks, also the C function it reached."""
    if not native:
        return _location(record.stack_trace(1))
    stack = record.hybrid_stack_trace()  # most recent first: C frames, then the Python frames above them
    python = next((i for i, frame in enumerate(stack) if frame[1].endswith(".py")), None)
    if python is None:
        return _location(stack)
    function, filename, lineno = stack[python]
    reached = stack[0][0] if python > 0 else ""
    return (f"{function} -> {reached}" if reached else function), filename, lineno


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


def paragraph(summary: dict[str, Any]) -> str:
    """One paragraph a learner can act on: the top allocator, its bytes and its share."""
    sites = summary["top_sites"]
    where = summary.get("where") or f"In {summary['mode']} mode, under {summary['duration_s']} s of StoryUser load"
    served = (
        "" if summary["requests"] is None else f" ({summary['requests']:,} requests, {summary['failures']:,} failed)"
    )
    head = (
        f"{where}{served}, the API's heap went from "
        f"{mib(summary['load_start_bytes'])} when the load started to {mib(summary['peak_bytes'])} at its peak."
    )
    if not sites or sites[0]["growth_bytes"] <= 0:
        return head + " No source line's memory grew while the load ran."
    top = sites[0]
    text = (
        f"{head} The top allocator is {top['site']} in {top['function']}()"
        + (f", `{top['line']}`" if top["line"] else "")
        + f": {mib(top['growth_bytes'])} of the growth ({top['share']:.1%}) in {top['count']:,} allocations "
        f"still alive at the peak ({top['share_of_peak']:.1%} of the peak heap)."
    )
    if top["share"] < 0.5:
        return text + " No single line holds most of the growth: nothing piles up in one place."
    if summary["requests"] is None:
        return text + " (The API's request count was not readable: compare the allocations with its traffic.)"
    requests = summary["requests"] or 1
    per_request, bytes_per_request = top["count"] / requests, top["growth_bytes"] / requests
    if per_request >= 0.5 and bytes_per_request >= KIB:
        return text + (
            f" That is {per_request:.1f} allocation ({size(bytes_per_request)}) kept per request: this "
            "line's memory grows with every request and is never given back. It is the leak."
        )
    return text + (
        f" It holds {top['count']:,} allocations after {summary['requests']:,} requests: a bounded set rather "
        "than one per request, so this memory does not grow with the traffic."
    )


def markdown(summary: dict[str, Any]) -> str:
    files = summary["files"]
    lines = [
        f"# {summary.get('title') or 'memray profile: ' + summary['mode'] + ' mode'}",
        "",
        summary["paragraph"],
        "",
        "| # | site | function | grew | share of growth | held at peak | allocations |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for rank, s in enumerate(summary["top_sites"][:5], start=1):
        lines.append(
            f"| {rank} | `{s['site']}` | {s['function']} | {mib(s['growth_bytes'])} | {s['share']:.1%} "
            f"| {mib(s['bytes'])} | {s['count']:,} |"
        )
    leaked = summary["leaked_sites"]
    if leaked:
        lines += [
            "",
            f"Still allocated when the API exited (leaks view): `{leaked[0]['site']}` in {leaked[0]['function']}() "
            f"with {mib(leaked[0]['bytes'])} ({leaked[0]['share']:.1%}).",
        ]
        top = summary["top_sites"][0] if summary["top_sites"] else None
        if top and top["share"] >= 0.5 and all(s["site"] != top["site"] for s in leaked):
            # The caches keep their entries until the process ends (their close() frees nothing), so a cache
            # leak shows in both views; memory that a shut-down freed shows only at the peak.
            lines[-1] += (
                f" The memory held at `{top['site']}` was freed before the API exited, so the leaks view does not "
                "show it: the peak flame graph does."
            )
    lines += [
        "",
        "Files:",
        "",
        f"- `{files['flamegraph']}`: flame graph of the allocations alive at the peak; the widest bar at the "
        "top of a stack is the line that holds the memory.",
        f"- `{files['leaks']}`: allocations never freed before the API exited (memray's `--leaks` view)."
        if "leaks" in files
        else "- no leaks view for a capture with native stacks (slow to render, and large): "
        f"`python -m memray flamegraph --leaks {files['capture']}` writes it.",
        f"- `{files['capture']}`: memray's capture; try `python -m memray flamegraph --temporal` or "
        "`python -m memray summary` on it.",
        "",
    ]
    return "\n".join(lines)
