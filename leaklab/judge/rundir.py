"""``leaklab judge RUN_DIR``: one verdict per mode of a leaklab run, from its ``samples.csv``.

The memory series is the API's RSS, keyed by its PID (a new PID is a restart). The rest of the row is
the context the judge may use: OOM kills, the tracemalloc windows, when the load ran, how full the
bounded cache is, the series on ``/metrics``, the requests and the memory limit. Only the columns named
here are read, so the compact copies kept in the corpus (``samples.csv.gz``) read the same way.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterable
from pathlib import Path

from ..verdict import Context, Series
from .inputs import BadInput, Input, tidy

SAMPLES = ("samples.csv", "samples.csv.gz")
COLUMNS = (
    "mode", "t_s", "api_pid", "rss_bytes", "limit_bytes", "oom_kills", "tracing", "users", "requests_total",
    "cache_entries", "cache_limit_entries", "metric_series",
)  # fmt: skip
Row = dict[str, float | None]


def samples_file(run_dir: Path) -> Path:
    for name in SAMPLES:
        if (run_dir / name).is_file():
            return run_dir / name
    if run_dir.is_file():
        raise BadInput(f"{run_dir} is a file: give a run directory, or a CSV file with --csv")
    if not run_dir.is_dir():
        raise BadInput(f"no such run directory: {run_dir}")
    raise BadInput(f"{run_dir} holds no samples.csv: is it a leaklab report directory?")


def read_rows(path: Path) -> dict[str, list[Row]]:
    """The rows of each mode, in the order the modes ran, with only ``COLUMNS`` (numbers, ``None`` if empty)."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        text = raw.decode()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = {"mode", "t_s", "rss_bytes"} - set(reader.fieldnames or ())
    if missing:
        raise BadInput(f"{path} is not a leaklab samples file: no column {', '.join(sorted(missing))}")
    by_mode: dict[str, list[Row]] = {}
    for line, row in enumerate(reader, start=2):
        try:
            values = {c: float(row[c]) if row.get(c) else None for c in COLUMNS if c != "mode"}
        except ValueError as exc:
            raise BadInput(f"{path}: line {line}: {exc}") from None
        if values["t_s"] is not None:
            by_mode.setdefault(row["mode"], []).append(values)
    if not by_mode:
        raise BadInput(f"{path} has no samples")
    return by_mode


def _windows(rows: list[Row]) -> list[tuple[float, float]]:
    """The tracemalloc windows: from the first tracing sample to the first sample after them."""
    out: list[tuple[float, float]] = []
    start: float | None = None
    for row in rows:
        t = float(row["t_s"] or 0.0)
        if row["tracing"] and start is None:
            start = t
        elif not row["tracing"] and start is not None:
            out.append((start, t))
            start = None
    if start is not None:
        out.append((start, float(rows[-1]["t_s"] or 0.0)))
    return out


def _load(rows: list[Row]) -> tuple[float, float | None] | None:
    started = [r["t_s"] for r in rows if (r["users"] or 0) > 0 or (r["requests_total"] or 0) > 0]
    if not started or started[0] is None:
        return None
    last, stopped = -1.0, None
    for r in rows:
        if r["requests_total"] is not None and r["requests_total"] > last:
            last, stopped = r["requests_total"], r["t_s"]
    return started[0], (None if stopped == rows[-1]["t_s"] else stopped)


def _pairs(rows: Iterable[Row], key: str) -> list[tuple[float, float]]:
    return [(float(r["t_s"] or 0.0), float(v)) for r in rows if (v := r[key]) is not None]


def mode_input(mode: str, rows: list[Row], limit_bytes: float | None = None, tolerance: float | None = None) -> Input:
    rows = sorted(rows, key=lambda r: float(r["t_s"] or 0.0))
    t = [float(r["t_s"] or 0.0) for r in rows]
    pid = [int(p) if (p := r["api_pid"]) else None for r in rows]
    series = tidy(t, [r["rss_bytes"] for r in rows], pid, mode)
    ooms = [float(r["oom_kills"] or 0) for r in rows]
    oom_s: list[float] = []  # the counter is cumulative: each step up is a kill at that sample
    for i in range(1, len(rows)):
        oom_s += [t[i]] * max(0, int(ooms[i] - ooms[i - 1]))
    fill = [
        (float(r["t_s"] or 0.0), float(r["cache_entries"]) / lim)
        for r in rows
        if (lim := r["cache_limit_entries"]) and r["cache_entries"] is not None
    ]
    metric = _pairs(rows, "metric_series")
    limits = [v for r in rows if (v := r["limit_bytes"])]
    context = Context(
        oom_kills=int(max(ooms, default=0)),
        excluded_s=_windows(rows),
        load_s=_load(rows),
        fill=fill,
        metric_series=Series([m[0] for m in metric], [m[1] for m in metric], name="metric_series") if metric else None,
        requests=_pairs(rows, "requests_total"),
        limit_bytes=limit_bytes or (max(limits) if limits else None),
        tolerance_mib_per_min=tolerance,
    )
    return Input(mode, series, context, tuple(oom_s))


def read_run(run_dir: Path, limit_bytes: float | None = None, tolerance: float | None = None) -> list[Input]:
    """One input per mode of the run in ``run_dir``, in the order the modes ran."""
    rows = read_rows(samples_file(run_dir))
    return [mode_input(mode, mode_rows, limit_bytes, tolerance) for mode, mode_rows in rows.items()]
