"""The report's PNG charts, drawn with matplotlib (headless Agg backend), every mode on the same axes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from ...files import atomic_write_bytes
from ...units import MIB, mib
from ..sampler import Sample

COLORS = {"leaky": "#d62728", "lru": "#2ca02c", "redis": "#1f77b4"}
TIME_AXIS = "seconds since the API started (Locust starts its users a few seconds in)"
CHARTS = {
    "memory.png": "API memory over time (as the limit counts it), with the limit and the OOM kills",
    "load.png": "Requests per second and failures per second seen by Locust",
    "cache.png": "Cache entries held and evictions",
    "redis.png": "Redis used_memory against its maxmemory",
}


def limit_label(limit_bytes: float) -> str:
    """The legend of the memory chart's dashed line, e.g. ``memory limit (192 MiB)``."""
    return f"memory limit ({mib(limit_bytes, 0)})"


def _style(ax: Axes, ylabel: str) -> None:
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _series(samples: Sequence[Sample], name: str, scale: float = 1.0) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for s in samples:
        value = getattr(s, name)
        if value is not None:
            xs.append(s.t_s)
            ys.append(value / scale)
    return xs, ys


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=100)
    plt.close(fig)
    atomic_write_bytes(path, png.getvalue())


def memory_chart(path: Path, samples: dict[str, list[Sample]], modes: dict[str, Any]) -> None:
    fig, ax = plt.subplots(figsize=(10, 4.8))
    limit_mib = 0.0
    for mode, rows in samples.items():
        color = COLORS.get(mode)
        # What the limit is compared with: the cgroup's usage when a cgroup enforces it (RSS also counts shared
        # library pages charged elsewhere, so it can read above the limit), else RSS (the watchdog's measure).
        charged = any(s.cgroup_bytes for s in rows) and modes.get(mode, {}).get("limit_mechanism") != "watchdog"
        xs, ys = _series(rows, "cgroup_bytes" if charged else "rss_bytes", MIB)
        ax.plot(xs, ys, label=f"{mode} ({modes.get(mode, {}).get('verdict', '?')})", color=color, linewidth=2)
        limit_mib = max(limit_mib, max((s.limit_bytes for s in rows), default=0) / MIB)
        kills = [e["t_s"] for e in modes.get(mode, {}).get("events", []) if e.get("kind") == "killed"]
        for i, t in enumerate(kills):
            # the kill happened after the last sample of the old process: mark it there, at its peak
            before = [(x, y) for x, y in zip(xs, ys, strict=True) if x < t] or [(t, limit_mib)]
            ax.scatter(
                [before[-1][0]],
                [before[-1][1]],
                marker="X",
                s=120,
                color=color,
                edgecolor="black",
                zorder=5,
                label=f"{mode}: OOM kill + restart" if i == 0 else None,
            )
    if limit_mib:
        ax.axhline(limit_mib, color="black", linestyle="--", linewidth=1.2, label=limit_label(limit_mib * MIB))
        ax.set_ylim(0, limit_mib * 1.12)
    else:
        ax.set_ylim(bottom=0)
    ax.set_title("API memory over time: the leak climbs to the limit, the fixes level off")
    ax.set_xlabel(TIME_AXIS)
    _style(ax, "memory counted against the limit (MiB)")
    ax.legend(loc="upper left", fontsize=9, framealpha=0.9)
    _save(fig, path)


def _two_panels(
    samples: dict[str, list[Sample]], top_field: str, bottom_field: str, labels: tuple[str, str], title: str
) -> tuple[Any, Axes, Axes]:
    """Every mode's ``top_field`` above its ``bottom_field``, on a shared time axis."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 5.6), sharex=True)
    for mode, rows in samples.items():
        for ax, name in ((top, top_field), (bottom, bottom_field)):
            ax.plot(*_series(rows, name), label=mode, color=COLORS.get(mode), linewidth=1.8)
    top.set_title(title)
    _style(top, labels[0])
    _style(bottom, labels[1])
    bottom.set_ylim(bottom=0)
    bottom.set_xlabel(TIME_AXIS)
    return fig, top, bottom


def load_chart(path: Path, samples: dict[str, list[Sample]]) -> None:
    title = "Load seen by Locust (failures appear while the API is down after an OOM kill)"
    fig, top, _ = _two_panels(samples, "rps", "fail_per_s", ("requests/s", "failures/s"), title)
    top.set_ylim(bottom=0)
    top.legend(loc="lower center", fontsize=9, ncol=3)
    _save(fig, path)


def cache_chart(path: Path, samples: dict[str, list[Sample]]) -> None:
    _save(cache_figure(samples), path)


def cache_figure(samples: dict[str, list[Sample]]) -> Any:
    title = "Cache entries held (log scale) and entries evicted: a bounded cache evicts, a leak never does"
    fig, top, _ = _two_panels(samples, "cache_entries", "evictions_total", ("entries held", "evictions (total)"), title)
    top.set_yscale("symlog", linthresh=10)  # linear up to 10 entries, so an empty cache (0) is drawn too
    top.set_ylim(bottom=0)  # autoscale's margin would reach below zero, to -10²: a count is never negative
    top.legend(loc="upper left", fontsize=9)
    return fig


def redis_chart(path: Path, rows: Sequence[Sample]) -> None:
    fig, ax = plt.subplots(figsize=(10, 3.8))
    xs, ys = _series(rows, "redis_used_memory", MIB)
    ax.plot(xs, ys, color=COLORS["redis"], linewidth=2, label="used_memory")
    maxmemory = max((s.redis_maxmemory or 0 for s in rows), default=0) / MIB
    if maxmemory:
        ax.axhline(
            maxmemory, color="black", linestyle="--", linewidth=1.2, label=f"maxmemory ({mib(maxmemory * MIB, 0)})"
        )
        ax.set_ylim(0, maxmemory * 1.2)
    ax2 = ax.twinx()
    ex, ey = _series(rows, "redis_evicted_keys")
    ax2.plot(ex, ey, color="#ff7f0e", linewidth=1.5, linestyle=":", label="evicted_keys (right axis)")
    ax2.set_ylabel("evicted keys (total)")
    ax2.set_ylim(bottom=0)
    ax.set_title("Redis: memory held at maxmemory, old keys evicted (allkeys-lru)")
    ax.set_xlabel(TIME_AXIS)
    _style(ax, "Redis memory (MiB)")
    handles = ax.get_legend_handles_labels()
    handles2 = ax2.get_legend_handles_labels()
    ax.legend(handles[0] + handles2[0], handles[1] + handles2[1], loc="lower right", fontsize=9)
    _save(fig, path)


def draw_all(out: Path, samples: dict[str, list[Sample]], modes: dict[str, Any]) -> list[str]:
    """Draw every chart that has data; returns the file names written."""
    memory_chart(out / "memory.png", samples, modes)
    load_chart(out / "load.png", samples)
    written = ["memory.png", "load.png"]
    if any(s.cache_entries is not None for rows in samples.values() for s in rows):  # not a service of yours
        cache_chart(out / "cache.png", samples)
        written.append("cache.png")
    redis_rows = samples.get("redis", [])
    if any(s.redis_used_memory is not None for s in redis_rows):
        redis_chart(out / "redis.png", redis_rows)
        written.append("redis.png")
    return written
