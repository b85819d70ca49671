"""One unit for memory: the same bytes read the same, in MiB, wherever the lab shows them.

The live view, ``summary.json``, ``report.html`` and its charts, the profile and attach summaries, the
benchmark's table, ``bench.json`` and BENCHMARKS.md are each fed the same byte counts here and must all say
the same MiB. So that no command, present or future, brings a unit of its own back: every string the code
can print (any literal but a docstring) and every command's ``--help`` is scanned for decimal or mislabelled
units (MB, KB, GB, an ``_mb`` key), and the code for decimal conversions (``/ 1e6``, ``* 1_000_000``).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from leaklab.bench.markdown import markdown as bench_markdown
from leaklab.bench.results import RoundResult, summarise
from leaklab.bench.table import COLUMNS, table_rows
from leaklab.cli import COMMANDS
from leaklab.cli import main as leaklab
from leaklab.lab.live import LiveDisplay
from leaklab.lab.report.charts import limit_label
from leaklab.lab.report.html import alloc_section, verdict_section
from leaklab.lab.result import ModeResult
from leaklab.lab.sampler import Sample
from leaklab.lab.verdict import analyse
from leaklab.profile.memray_summary import paragraph
from leaklab.profile.report import print_summary
from leaklab.units import GIB, MIB, gib, mib, size

REPO = Path(__file__).resolve().parents[1]
# what prints: the lab's package and the API's (its start-up errors and pages)
CODE = sorted([*(REPO / "leaklab").rglob("*.py"), *(REPO / "services" / "api" / "leaklab_api").rglob("*.py")])
# a decimal or mislabelled unit standing as a word or a key part ("70 MB", "MB/min", "64 KB", "rss_mb"); a
# number glued to it is a tool's own syntax (Redis' "64mb" is 64 MiB) and passes
WRONG_UNIT = re.compile(r"(?<![A-Za-z0-9])(MB|KB|kB|GB|mb|kb|gb)(?![A-Za-z0-9])")
# keys that only read what older versions wrote, to rename them
LEGACY_KEYS = {"leaklab/lab/report/data.py": {"_mb", "_mb_per_min"}}
DECIMAL_FACTORS = {10**6, 10**9}  # bytes to MB or GB; a KiB-sized 1000 is the ms -> s of timers, left alone
RSS = 73_400_320  # 70 MiB (73.4 decimal megabytes)
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


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring constants: documentation, not output."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _decimal_units(path: Path) -> list[str]:
    """``file:line: what`` for each printable literal with a decimal unit and each decimal conversion."""
    tree = ast.parse(path.read_text())
    skip = _docstrings(tree)
    where = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name
    old_keys = LEGACY_KEYS.get(where, set())
    legacy = {id(n) for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in old_keys}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip | legacy:
            for match in WRONG_UNIT.finditer(node.value):
                found.append(f"{where}:{node.lineno}: {match[0]!r} in {node.value.strip()[:60]!r}")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mult)):
            found += [
                f"{where}:{node.lineno}: a decimal conversion ({ast.unparse(node)})"
                for side in (node.left, node.right)
                if isinstance(side, ast.Constant) and type(side.value) in (int, float) and side.value in DECIMAL_FACTORS
            ]
    return sorted(found, key=lambda line: int(line.split(":")[1]))


@pytest.mark.parametrize("path", CODE, ids=lambda path: str(path.relative_to(REPO)))
def test_no_code_prints_a_decimal_unit_or_converts_to_one(path: Path) -> None:
    assert not _decimal_units(path)


def test_the_scan_finds_what_it_is_for(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""A docstring may say 70 KB."""\n'
        'print(f"{rss / 1e6:.1f} MB")\n'
        'row = {"rss_mb": rss // 1_000_000}\n'
        'say(f"{rate:+.1f} MB/min", "64 KB of slack")\n'
        'ok = ("64mb", f"{mib(rss)}", seconds / 1000, "MiB/min")\n'
    )
    found = _decimal_units(sample)
    assert [line.split(": ", 1)[0] for line in found] == ["sample.py:2"] * 2 + ["sample.py:3"] * 2 + ["sample.py:4"] * 2
    text = "\n".join(found)
    for expected in ("'MB' in 'MB'", "(rss / 1000000.0)", "'rss_mb'", "(rss // 1000000)", "in 'MB/min'", "'64 KB of"):
        assert expected in text, text


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_s_help_speaks_mib(command: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        leaklab([command, "--help"])
    assert exit_info.value.code == 0
    text = out.getvalue()
    assert text.strip() and not WRONG_UNIT.findall(text), text


def test_attach_prints_the_native_calls_in_mib(capsys: pytest.CaptureFixture[str]) -> None:
    chain = {"native": "__GI___strdup", "python": "native.py:43 in on_request()", "bytes": RSS}
    summary = {"paragraph": "p", "native_callers": [chain], "files": {"flamegraph": "f.html"}}
    print_summary(summary)
    out = capsys.readouterr().out
    assert f"native: __GI___strdup  (from native.py:43 in on_request(), {mib(RSS)})" in out
    assert not WRONG_UNIT.findall(out)
