"""One unit for memory: the same bytes read the same, in MiB, wherever the lab shows them.

The live view, ``summary.json``, ``report.html`` and its charts, the profile summary, the benchmark's table,
``bench.json`` and BENCHMARKS.md are each fed the same byte counts here and must all say the same MiB.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from rich.console import Console

from leaklab.bench.markdown import markdown as bench_markdown
from leaklab.bench.results import RoundResult, summarise
from leaklab.bench.table import COLUMNS, table_rows
from leaklab.lab.live import LiveDisplay
from leaklab.lab.report.charts import limit_label
from leaklab.lab.report.html import alloc_section, verdict_section
from leaklab.lab.result import ModeResult
from leaklab.lab.sampler import Sample
from leaklab.lab.verdict import analyse
from leaklab.profile.memray_summary import paragraph
from leaklab.units import GIB, MIB, gib, mib, size

RSS = 73_400_320  # 70 MiB (73.4 MB)
LIMIT = 201_326_592  # 192 MiB
TRACED = 5_767_168  # 5.5 MiB


def test_the_unit_itself() -> None:
    assert (mib(RSS), mib(LIMIT, 0), mib(TRACED)) == ("70.0 MiB", "192 MiB", "5.5 MiB")
    assert (size(3 * 1024), size(RSS), size(None)) == ("3.0 KiB", "70.0 MiB", "–")
    assert gib(8 * GIB) == "8.0 GiB"


def _samples(n: int = 20) -> list[Sample]:
    return [
        Sample("lru", float(t), 1e9 + t, 100, 1, RSS, RSS, LIMIT, cache_entries=50.0, rps=19.6, failures_total=3)
        for t in range(n)
    ]


def test_summary_json_live_view_report_and_chart_agree() -> None:
    samples = _samples()
    summary = analyse(samples, oom_kills=0)
    mib_keys = {k for k in summary if k.endswith("_mib")}
    assert {"rss_start_mib", "rss_peak_mib", "rss_end_mib", "rss_plateau_mib", "limit_mib"} <= mib_keys
    assert not [k for k in summary if re.search(r"_mb(_|$)", k)], "every size key is named for its unit"
    assert summary["rss_peak_mib"] == 70.0 and summary["limit_mib"] == 192.0
    json.dumps(summary)  # summary.json holds it as is

    out = io.StringIO()
    live = LiveDisplay(["lru"], 20, Console(file=out, width=150, force_terminal=False))
    live.update(ModeResult("lru"), samples[-1], 19.0)
    assert "70/192 MiB" in out.getvalue()

    modes: dict[str, Any] = {"lru": summary | {"requests": 400, "failures": 0}}
    page = verdict_section(modes)
    assert "(plateau), MiB" in page and "70.0 → 70.0 → 70.0 (70.0)" in page
    sites = alloc_section(
        {"lru": {"alloc": {"sites": [{"site": "a.py:1", "growth_bytes": RSS}], "traced_bytes": TRACED}}}
    )
    assert mib(RSS) in sites and mib(TRACED) in sites
    assert limit_label(LIMIT) == "memory limit (192 MiB)"


def test_profile_summary_speaks_mib() -> None:
    text = paragraph(
        {"mode": "leaky", "duration_s": 5, "requests": 1000, "failures": 0, "load_start_bytes": TRACED,
         "peak_bytes": RSS, "top_sites": []}
    )  # fmt: skip
    assert f"from {mib(TRACED)} when the load started to {mib(RSS)} at its peak" in text


def _round(server: str) -> RoundResult:
    return RoundResult(
        server=server, round=1, rps=1000.0, p50_ms=1.0, p99_ms=2.0, requests=6000, errors=0, cpu_ms_per_request=0.1,
        rss_start_bytes=RSS, rss_after_count_bytes=RSS + MIB, rss_end_bytes=RSS + 2 * MIB, count_requests=1000,
        count_errors=0, leaked_bytes_per_request=MIB / 1000,
    )  # fmt: skip


def test_benchmark_table_json_and_markdown_speak_mib() -> None:
    summary = summarise([_round("lru")], ["lru"], payload_items=10_000)
    row = summary["rows"]["lru"]
    assert (row["rss_start_mib"], row["rss_end_mib"], row["leaked_mib_per_1k"]) == (70.0, 72.0, 1.0)
    headers = [header for _, header in COLUMNS]
    assert "RSS start MiB" in headers and "MiB leaked /1k req" in headers and not [h for h in headers if "MB" in h]
    doc: dict[str, Any] = {
        "summary": summary,
        "settings": {"rounds": 1, "load_tool": "wrk", "connections": 10, "threads": 1, "duration_s": 1.0,
                     "fixed_count_requests": 1000},
        "generated_at": "now", "elapsed_s": 1.0, "rounds": [], "notes": [], "command": "leaklab bench",
        "machine": {"cpu": "x", "cpus": 2, "memory_bytes": 8 * GIB, "kernel": "6", "note": "shared"},
        "versions": {},
    }  # fmt: skip
    assert table_rows(doc)[0][headers.index("RSS start MiB")] == "70.0"
    text = bench_markdown(doc)
    assert "| RSS start MiB |" in text and "8.0 GiB RAM" in text and " MB" not in text
