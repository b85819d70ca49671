"""What leaks, not only whether: Python objects (tracemalloc names the line) or native memory (it cannot).

Read from the tracemalloc window the runner records (``GET /debug/memory`` at its end): how much traced
memory grew beside how much RSS grew over the same seconds. Python objects: traced growth explains a
real part of the RSS growth, and the top site (or, inside a library, its caller in our code) is the
line. Native memory: RSS grew and traced memory did not follow; tracemalloc cannot see allocations made
outside Python's allocator, memray with native stacks can.
"""

from __future__ import annotations

from typing import Any

PYTHON_OBJECTS = "python objects"
NATIVE_MEMORY = "native memory"
# traced growth below this part of the RSS growth: native (measured here: native up to 11%, the payload leaks
# 85-110%; metric-labels 17-25%, whose leak the series rule finds and whose class it fixes: series.py)
MIN_TRACED_SHARE = 0.15
MIN_WINDOW_GROWTH_BYTES = 512 * 1024  # less RSS growth than this in the window cannot tell the two apart
MEMRAY_NATIVE = (
    "leaklab profile --native --scenario native  "
    "(memray run --native -o api.bin -m leaklab_api ...; memray flamegraph --leaks api.bin)"
)

TRIAGE_RULE = (
    f"for a leaking run: native memory if RSS grew by at least {MIN_WINDOW_GROWTH_BYTES / 1024**2:g} MiB during the "
    f"tracemalloc window while traced memory grew by less than {MIN_TRACED_SHARE:.0%} of that; python objects "
    "if traced memory grew by more, named by the top allocation site (or its caller in our code when the site is in "
    "a library); unknown if RSS grew less than that in the window; python objects whenever the /metrics series "
    "count climbed (a label leak: the registry's children are objects). Bounded and inconclusive runs get no class"
)


def window_class(alloc: dict[str, Any]) -> str | None:
    """What grew during the tracemalloc window: a class, or ``None`` if too little grew to tell."""
    traced, rss = alloc.get("traced_growth_bytes"), alloc.get("rss_growth_bytes")
    if traced is None or rss is None or rss < MIN_WINDOW_GROWTH_BYTES:
        return None
    return NATIVE_MEMORY if traced < MIN_TRACED_SHARE * rss else PYTHON_OBJECTS


def classify(summary: dict[str, Any]) -> dict[str, Any]:
    """``leak_class``, ``top_line`` and ``triage`` (one sentence) for a leaking mode's summary; empty otherwise.

    The live view and the report both use ``window_class`` on the same recording, so they agree.
    """
    if summary.get("verdict") != "leaking":
        return {"leak_class": None, "top_line": None, "triage": None}
    alloc = summary.get("alloc") or {}
    traced, rss = alloc.get("traced_growth_bytes"), alloc.get("rss_growth_bytes")
    top = top_line(alloc.get("sites") or [])
    if "series" in (summary.get("verdict_rules") or []):  # the registry's children are Python objects
        return {
            "leak_class": PYTHON_OBJECTS,
            "top_line": top,
            "triage": f"python objects: {summary.get('verdict_reason')}; top line: {top or '?'}",
        }
    if traced is None or rss is None:
        return {"leak_class": None, "top_line": None, "triage": "no tracemalloc window was recorded: class unknown"}
    seen = window_class(alloc)
    if seen is None:
        return {
            "leak_class": None,
            "top_line": top,
            "triage": (
                f"class unknown: RSS grew only {rss / 1024**2:.1f} MiB during the tracemalloc window, too little to "
                f"tell python objects from native memory (at least {MIN_WINDOW_GROWTH_BYTES / 1024**2:g} MiB); "
                f"run longer or with more load. Top line while it ran: {top or '?'}"
            ),
        }
    if seen == NATIVE_MEMORY:
        return {
            "leak_class": NATIVE_MEMORY,
            "top_line": None,
            "triage": (
                f"native memory: RSS grew {rss / 1024**2:.1f} MiB while tracemalloc's traced memory grew "
                f"{max(traced, 0) / 1024**2:.1f} MiB: the memory is allocated outside Python's allocator, which "
                f"tracemalloc cannot see. Name the allocating call with memray's native stacks: {MEMRAY_NATIVE}"
            ),
        }
    return {
        "leak_class": PYTHON_OBJECTS,
        "top_line": top,
        "triage": f"python objects: traced memory grew {traced / 1024**2:.1f} MiB ({traced / rss:.0%} of the RSS "
        f"growth); top line: {top or '?'}",
    }


def top_line(sites: list[dict[str, Any]]) -> str | None:
    """The top site by growth as ``file:line code``; a site in a library is named by its caller in our code."""
    if not sites:
        return None
    site = sites[0]
    own = f"{site['site']} {site.get('line', '')}".strip()
    caller = site.get("caller")
    return f"{caller} (via {site['site']})" if caller else own
