"""``leaklab judge RUN_DIR``: one verdict per mode of a leaklab run, from its ``samples.csv``.

The samples are read and handed to the judge exactly as the run's own report does (``lab.verdict``:
the RSS keyed by the API's PID, with the OOM kills, tracemalloc windows, load, cache fill, ``/metrics``
series and requests as context), so ``leaklab judge`` on a run directory agrees with its report. A
gzipped copy (``samples.csv.gz``, as the corpus keeps its recordings) reads the same way.
"""

from __future__ import annotations

import csv
import gzip
import itertools
from dataclasses import replace
from pathlib import Path

from ..lab.report.data import read_samples
from ..lab.sampler import Sample
from ..lab.verdict import context, memory
from .inputs import BadInput, Input

SAMPLES = ("samples.csv", "samples.csv.gz")
REQUIRED = ("mode", "t_s", "rss_bytes")
# the columns the judge's context is built from (lab.verdict.context); the corpus keeps only these
COLUMNS = (
    "mode", "t_s", "api_pid", "rss_bytes", "limit_bytes", "oom_kills", "tracing", "requests_total",
    "hits_total", "misses_total", "cache_entries", "cache_limit_entries", "metric_series",
)  # fmt: skip


def samples_file(run_dir: Path) -> Path:
    for name in SAMPLES:
        if (run_dir / name).is_file():
            return run_dir / name
    if run_dir.is_file():
        raise BadInput(f"{run_dir} is a file: give a run directory, or a CSV file with --csv")
    if not run_dir.is_dir():
        raise BadInput(f"no such run directory: {run_dir}")
    raise BadInput(f"{run_dir} holds no samples.csv: is it a leaklab report directory?")


def read_modes(path: Path) -> dict[str, list[Sample]]:
    """The samples of each mode in ``path``, in the order the modes ran (``BadInput`` if it is no samples file)."""
    try:
        with gzip.open(path, "rt", newline="") if path.suffix == ".gz" else path.open(newline="") as f:
            header = next(csv.reader(f), [])
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise BadInput(f"{path} is not a leaklab samples file: no column {', '.join(missing)}")
        modes = read_samples(path)
    except (OSError, EOFError, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None
    if not modes:
        raise BadInput(f"{path} has no samples")
    return modes


def oom_times(samples: list[Sample]) -> tuple[float, ...]:
    """When the OOM kills happened: each step up of the cumulative count is a kill at that sample."""
    out: list[float] = []
    for before, now in itertools.pairwise(samples):
        out += [now.t_s] * max(0, now.oom_kills - before.oom_kills)
    return tuple(out)


def mode_input(mode: str, samples: list[Sample], limit_bytes: float | None, tolerance: float | None) -> Input:
    kills = max((s.oom_kills for s in samples), default=0)
    ctx = context(samples, kills, tolerance)
    if limit_bytes:
        ctx = replace(ctx, limit_bytes=float(limit_bytes))
    return Input(mode, replace(memory(samples), name=mode), ctx, oom_times(samples))


def read_run(run_dir: Path, limit_bytes: float | None = None, tolerance: float | None = None) -> list[Input]:
    """One input per mode of the run in ``run_dir``, in the order the modes ran."""
    modes = read_modes(samples_file(run_dir))
    return [mode_input(mode, samples, limit_bytes, tolerance) for mode, samples in modes.items()]
