"""One unit for memory sizes wherever the lab shows them: MiB (2^20 bytes), always written "MiB".

Docker's ``mem_limit``, the kernel's cgroup limits and ``--mem-limit 192M`` count in binary units, so
every figure does too: the live view, ``report.html`` and its charts, ``summary.json`` (keys end in
``_mib``), the profile summary, ``bench.json`` and BENCHMARKS.md. Smaller sizes are KiB (2^10 bytes).
"""

from __future__ import annotations

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
MISSING = "–"


def to_mib(n_bytes: float) -> float:
    """Bytes as MiB, for a figure that is stored or plotted (its name or axis label says MiB)."""
    return n_bytes / MIB


def mib(n_bytes: float | None, digits: int = 1) -> str:
    """``"1,234.5 MiB"`` (``MISSING`` for None)."""
    return MISSING if n_bytes is None else f"{n_bytes / MIB:,.{digits}f} MiB"


def gib(n_bytes: float | None) -> str:
    """``"7.8 GiB"``, for a machine's memory (``MISSING`` for None)."""
    return MISSING if n_bytes is None else f"{n_bytes / GIB:,.1f} GiB"


def size(n_bytes: float | None) -> str:
    """MiB from one MiB up, KiB below it (an allocation site of a few KiB stays readable)."""
    if n_bytes is None:
        return MISSING
    return mib(n_bytes) if abs(n_bytes) >= MIB else f"{n_bytes / KIB:,.1f} KiB"
