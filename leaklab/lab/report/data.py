"""The report's data files: ``samples.csv`` (one row per sample per mode) and ``summary.json``."""

from __future__ import annotations

import csv
import gzip
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import IO, Any

from ...files import atomic_write, atomic_write_text
from ...machine import machine, versions
from ...verdict.rules import thresholds
from ..result import ModeResult
from ..sampler import COLUMNS, Sample
from ..triage import TRIAGE_RULE, classify
from ..verdict import analyse

SUMMARY = "summary.json"
PACKAGES = ("leaklab", "fastapi", "uvicorn", "locust", "redis", "matplotlib")  # versions recorded in the summary
SAMPLES = "samples.csv"
_TYPES = {f.name: f.type for f in fields(Sample)}


def write_samples(path: Path, samples: Iterable[Sample]) -> None:
    def write(f: IO[Any]) -> None:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for s in samples:
            writer.writerow(["" if (v := getattr(s, c)) is None else v for c in COLUMNS])

    atomic_write(path, write)


def read_samples(path: Path) -> dict[str, list[Sample]]:
    """Samples by mode, in the order the modes ran (``samples.csv``, or a gzipped copy ending in ``.gz``)."""
    by_mode: dict[str, list[Sample]] = {}
    with gzip.open(path, "rt", newline="") if path.suffix == ".gz" else path.open(newline="") as f:
        for row in csv.DictReader(f):
            values = {name: _convert(name, row.get(name, "")) for name in COLUMNS}
            by_mode.setdefault(str(values["mode"]), []).append(Sample(**values))
    return by_mode


def _convert(name: str, raw: str) -> Any:
    kind = str(_TYPES[name])
    if name == "mode":
        return raw
    if raw == "":
        return None if "None" in kind else 0
    return int(float(raw)) if kind.startswith("int") else float(raw)


def mode_summary(result: ModeResult, tolerance_mib_per_min: float | None = None) -> dict[str, Any]:
    load = result.load
    summary = analyse(result.samples, result.oom_kills, tolerance_mib_per_min)
    summary.update(
        {
            "restarts": result.restarts,
            "requests": load.requests if load else None,
            "failures": load.failures if load else None,
            "failure_ratio": round(load.failures / load.requests, 4) if load and load.requests else None,
            "rps": round(load.rps, 1) if load else None,
            "p50_ms": load.p50_ms if load else None,
            "p95_ms": load.p95_ms if load else None,
            "p99_ms": load.p99_ms if load else None,
        }
    )
    summary.update(result.to_json())
    summary.update(classify(summary))
    return summary


def build_summary(
    results: Sequence[ModeResult], settings: dict[str, Any], skipped: Sequence[dict[str, str]], interrupted: bool
) -> dict[str, Any]:
    from ... import __version__

    tolerance = settings.get("tolerance_mib_per_min")
    return {
        "leaklab_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "interrupted": interrupted,
        "modes": {r.mode: mode_summary(r, tolerance) for r in results},
        "skipped_modes": list(skipped),
        "settings": {**settings, "versions": versions(PACKAGES), "machine": machine()},
        "thresholds": {**thresholds(tolerance), "class_rule": TRIAGE_RULE},
    }


RETIRED = ("note", "fit_growth_mib", "metric_series_fit_r2", "metric_series_per_request")


def reanalyse(summary: dict[str, Any], samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """Recompute the sample-derived figures (``leaklab report``), keeping what only the run knew."""
    for data in summary.get("modes", {}).values():
        for key in [k for k in data if k.endswith(("_mb", "_mb_per_min")) or k in RETIRED]:
            del data[key]  # a report written before the figures were named in MiB, or before the one judge
    tolerance = (summary.get("settings") or {}).get("tolerance_mib_per_min")
    for mode, data in summary.get("modes", {}).items():
        data.update(analyse(samples.get(mode, []), int(data.get("oom_kills") or 0), tolerance))
        data.update(classify(data))
    summary["thresholds"] = {**thresholds(tolerance), "class_rule": TRIAGE_RULE}
    return summary


def write_summary(path: Path, summary: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(summary, indent=2, sort_keys=False) + "\n")
