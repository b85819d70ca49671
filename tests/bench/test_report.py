"""The benchmark's outputs: wrk parsing, medians and ratios, the table, bench.json and BENCHMARKS.md."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from leaklab.bench.document import document as bench_document
from leaklab.bench.document import write_json
from leaklab.bench.load import LoadError, parse_wrk
from leaklab.bench.markdown import BEGIN, END, update_markdown
from leaklab.bench.results import RoundResult, summarise
from leaklab.bench.table import print_table

WRK_OUTPUT = """\
Running 6s test @ http://127.0.0.1:40001/data
  2 threads and 100 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    16.57ms   42.65ms 408.68ms   97.53%
    Req/Sec     3.49k   613.94     4.41k    80.00%
  Latency Distribution
     50%   12.43ms
     75%   13.50ms
     90%   15.48ms
     99%  256.10ms
  41652 requests in 6.01s, 2.72GB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 1
Requests/sec:   6930.58
Transfer/sec:    462.90MB
"""


def test_wrk_output_is_read_with_units() -> None:
    result = parse_wrk(WRK_OUTPUT)
    assert result.requests == 41652
    assert result.rps == pytest.approx(6930.58)
    assert result.p50_ms == pytest.approx(12.43)
    assert result.p99_ms == pytest.approx(256.10)
    assert result.seconds == pytest.approx(6.01)
    assert result.errors == 6
    assert parse_wrk(WRK_OUTPUT.replace("12.43ms", "900.00us")).p50_ms == pytest.approx(0.9)
    assert parse_wrk(WRK_OUTPUT.replace("256.10ms", "1.25s")).p99_ms == pytest.approx(1250)


def test_unreadable_wrk_output_is_a_clear_error() -> None:
    with pytest.raises(LoadError, match="could not read wrk's output"):
        parse_wrk("wrk: unknown option\n")


def _round(server: str, rnd: int, rps: float, leaked: float = 500.0) -> RoundResult:
    return RoundResult(
        server=server,
        round=rnd,
        rps=rps,
        p50_ms=10.0,
        p99_ms=50.0,
        requests=int(rps * 6),
        errors=0,
        cpu_ms_per_request=0.1,
        rss_start_bytes=50_000_000,
        rss_after_count_bytes=int(50_000_000 + leaked * 1000),
        rss_end_bytes=int(50_000_000 + leaked * 2000),
        count_requests=1000,
        count_errors=0,
        leaked_bytes_per_request=leaked,
        metrics_scrape_ms=1.0 if server in ("leaky", "lru") else None,
        metrics_scrape_max_ms=2.0 if server in ("leaky", "lru") else None,
        cache_entries=1000.0 if server in ("leaky", "lru") else None,
    )


@pytest.fixture
def document() -> dict[str, object]:
    results = [
        r
        for rnd in (1, 2, 3)
        for r in (
            _round("leaky", rnd, 3000 + rnd, leaked=70_500),
            _round("lru", rnd, 7000 * rnd),
            _round("node-leaky", rnd, 1500 + rnd, leaked=95_000),
            _round("node-lru", rnd, 2000 * rnd),
            _round("fastapi-ceiling", rnd, 8000 * rnd),
        )
    ]
    summary = summarise(results, ["leaky", "lru", "node-leaky", "node-lru", "fastapi-ceiling"], payload_items=10_000)
    args = argparse.Namespace(
        rounds=3, duration=6.0, requests=1000, connections=100, threads=2, redis_maxmemory="64mb", payload_items=10_000
    )
    return bench_document(args, "wrk", "leaklab bench --rounds 3", summary, results, ["a note"], 12.0)


def test_ratios_are_taken_within_each_round(document: dict[str, object]) -> None:
    rows = document["summary"]["rows"]  # type: ignore[index]
    assert rows["lru"]["x_node_lru"] == pytest.approx(3.5)  # 7000r / 2000r in every round
    assert rows["lru"]["pct_fastapi_ceiling"] == pytest.approx(87.5)
    assert rows["lru"]["rps"] == 14000  # the median round
    assert rows["leaky"]["leaked_mib_per_1k"] == pytest.approx(70_500 * 1000 / 2**20)
    targets = {t["target"]: t for t in document["summary"]["targets"]}  # type: ignore[index]
    assert targets["lru >= 2.5x node-lru req/s"]["met"] is True
    assert targets["redis >= 1.2x node-lru req/s"]["met"] is None  # not in this run
    leak = next(t for name, t in targets.items() if name.startswith("leaky leaks within 10%"))
    assert leak["met"] is True


def test_json_and_markdown_carry_the_table(document: dict[str, object], tmp_path: Path) -> None:
    path = tmp_path / "bench.json"
    write_json(path, document)
    loaded = json.loads(path.read_text())
    assert set(loaded) >= {"command", "settings", "machine", "versions", "summary", "rounds", "notes"}
    assert len(loaded["rounds"]) == 15
    assert loaded["settings"]["origin_latency_ms"] == 0

    markdown = tmp_path / "BENCHMARKS.md"
    markdown.write_text("# Benchmarks\n\nHand-written analysis stays.\n")
    update_markdown(markdown, document)
    update_markdown(markdown, document)  # a second run replaces its section, nothing more
    text = markdown.read_text()
    assert text.startswith("# Benchmarks\n\nHand-written analysis stays.\n")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
    assert "| lru | 14,000 |" in text
    assert "Command: `leaklab bench --rounds 3`" in text
    assert "Note: a note" in text


def test_terminal_table_lists_every_server(document: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    print_table(document)
    out = capsys.readouterr().out
    for server in ("leaky", "lru", "node-leaky", "node-lru", "fastapi-ceiling"):
        assert server in out
    assert "3.50x" in out
    assert "targets" in out


def test_a_redis_run_that_went_around_redis_does_not_meet_its_target() -> None:
    results = []
    for rnd in (1, 2, 3):
        redis = _round("redis", rnd, 9000)
        redis.cache_errors = 120.0  # requests served from the origin because Redis timed out
        results += [redis, _round("node-lru", rnd, 3000)]
    summary = summarise(results, ["redis", "node-lru"], payload_items=10_000)
    target = next(t for t in summary["targets"] if t["target"].startswith("redis >= 1.2x"))
    assert target["met"] is False
    assert "360 requests went around Redis" in target["shown"]
