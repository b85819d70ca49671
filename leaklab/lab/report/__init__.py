"""The report directory: ``summary.json``, ``samples.csv``, PNG charts and a self-contained ``report.html``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ...files import atomic_write_text
from ..sampler import Sample
from . import charts, data, html


def write_report(out: Path, summary: dict[str, Any], samples: dict[str, list[Sample]]) -> Path:
    """Write every file of the report into ``out``; returns the path of ``report.html``."""
    out.mkdir(parents=True, exist_ok=True)
    data.write_samples(out / data.SAMPLES, _chain(samples.values()))
    written = charts.draw_all(out, samples, summary["modes"])
    summary["charts"] = written
    data.write_summary(out / data.SUMMARY, summary)
    page = out / "report.html"
    atomic_write_text(page, html.render(out, summary, written))
    return page


def _chain(groups: Iterable[list[Sample]]) -> Iterable[Sample]:
    for group in groups:
        yield from group
