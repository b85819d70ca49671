"""With ``--native``: which native (C) call allocated the memory, and from which Python line it was called.

tracemalloc sees only Python's allocators, so a leak in a C extension or in a library reached through
ctypes is invisible to ``/debug/memory``; memray records every ``malloc`` with its C stack too.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from ..memray_summary import _relative

NATIVE_FRAMES_SHOWN = 4  # innermost C frames named per call chain


def native_callers(capture: Path, limit: int = 5) -> list[dict[str, Any]]:
    """The C call chains that held the most memory at the peak, innermost first, with their Python caller."""
    from memray import FileReader

    sizes: Counter[tuple[str, str]] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    with FileReader(str(capture)) as reader:
        for record in reader.get_high_watermark_allocation_records(merge_threads=True):
            named = [function for function, _file, _line in record.native_stack_trace() if function != "<unknown>"]
            native = named[:NATIVE_FRAMES_SHOWN]  # stripped libraries leave frames without a name
            python = record.stack_trace(1)
            caller = f"{_relative(python[0][1])}:{python[0][2]} in {python[0][0]}()" if python else "<no Python frame>"
            key = (" <- ".join(native) or "<no native frame>", caller)
            sizes[key] += record.size
            counts[key] += record.n_allocations
    total = sum(sizes.values()) or 1
    return [
        {"native": native, "python": caller, "bytes": size, "count": counts[(native, caller)], "share": size / total}
        for (native, caller), size in sizes.most_common(limit)
    ]
