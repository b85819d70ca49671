"""The report directory from recorded samples, without a run: files, charts, summary keys, re-rendering."""

from __future__ import annotations

import json
from pathlib import Path

from leaklab.lab.load import FinalStats
from leaklab.lab.report import write_report
from leaklab.lab.report.command import main as report_main
from leaklab.lab.report.data import build_summary
from leaklab.lab.result import ModeResult
from leaklab.lab.sampler import Sample
from leaklab.units import MIB

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LIMIT = 192 * MIB


def _result(mode: str, rss_mib: list[float], **extra: object) -> ModeResult:
    samples = [
        Sample(
            mode,
            float(t),
            1e9 + t,
            100,
            1,
            int(m * MIB),
            int(m * MIB),
            LIMIT,
            cache_entries=float(t),
            rps=20.0,
            fail_per_s=0.0,
            evictions_total=0.0,
            redis_used_memory=int(m * MIB) if mode == "redis" else None,
            redis_maxmemory=64 * MIB if mode == "redis" else None,
        )
        for t, m in enumerate(rss_mib)
    ]
    load = FinalStats(requests=400, failures=0, rps=20.0, p50_ms=3.0, p95_ms=5.0, p99_ms=9.0, avg_ms=3.2, errors=[])
    return ModeResult(mode, samples=samples, load=load, limit_mechanism="cgroup-v2", **extra)  # type: ignore[arg-type]


def _write(out: Path) -> dict[str, object]:
    leaky = _result(
        "leaky", [60 + 3 * t for t in range(40)], oom_kills=1, restarts=1,
        events=[{"t_s": 38.5, "kind": "killed", "detail": "exit code -9"}],
        alloc={"sites": [{"site": "services/api/leaklab_api/cache/leaky.py:24", "line": "self._store[key] = body",
                          "growth_bytes": 20 * MIB, "share": 0.99, "count": 300}], "traced_bytes": 22 * MIB,
               "from_s": 5, "to_s": 15},
    )  # fmt: skip
    results = [leaky, _result("lru", [60.0] * 40), _result("redis", [61.0] * 40)]
    summary = build_summary(results, {"load": {"duration_s": 40, "users": 10, "user_class": "StoryUser",
                                               "wait_s": 0.1}, "mem_limit": "192 MiB"}, [], False)  # fmt: skip
    write_report(out, summary, {r.mode: r.samples for r in results})
    return summary


def test_every_file_of_the_report_is_written(tmp_path: Path) -> None:
    summary = _write(tmp_path)
    assert summary["charts"] == ["memory.png", "load.png", "cache.png", "redis.png"]
    for chart in ("memory.png", "load.png", "cache.png", "redis.png"):
        assert (tmp_path / chart).read_bytes().startswith(PNG_MAGIC), chart
    modes = json.loads((tmp_path / "summary.json").read_text())["modes"]
    assert modes["leaky"]["verdict"] == "leaking" and modes["lru"]["verdict"] == "bounded"
    assert modes["leaky"]["limit_mib"] == 192.0 and modes["lru"]["rss_plateau_mib"] == 60.0
    settings = json.loads((tmp_path / "summary.json").read_text())["settings"]
    assert {"cpu", "cpus", "kernel", "memory_bytes", "platform", "python"} <= set(settings["machine"])
    assert {"python", "leaklab", "fastapi"} <= set(settings["versions"])
    page = (tmp_path / "report.html").read_text()
    assert "id=verdict" in page and "cache/leaky.py:24" in page and page.count("data:image/png;base64,") == 4
    rows = (tmp_path / "samples.csv").read_text().splitlines()
    assert len(rows) == 1 + 3 * 40


def test_leaklab_report_re_renders_and_renames_old_mb_keys(tmp_path: Path) -> None:
    _write(tmp_path)
    data = json.loads((tmp_path / "summary.json").read_text())
    old = data["modes"]["lru"]
    old["rss_peak_mb"] = old.pop("rss_peak_mib")  # as a report written before the keys said MiB
    (tmp_path / "summary.json").write_text(json.dumps(data))
    (tmp_path / "report.html").unlink()
    assert report_main([str(tmp_path)]) == 0
    again = json.loads((tmp_path / "summary.json").read_text())["modes"]["lru"]
    assert again["rss_peak_mib"] == 60.0 and "rss_peak_mb" not in again
    assert (tmp_path / "report.html").exists()


def test_leaklab_report_reads_samples_written_before_the_series_count(tmp_path: Path) -> None:
    _write(tmp_path)
    csv_path = tmp_path / "samples.csv"
    header, *rows = csv_path.read_text().splitlines()
    assert header.endswith(",metric_series,scraped")
    old = "\n".join(line.rsplit(",", 2)[0] for line in [header, *rows]) + "\n"  # both newer columns dropped
    csv_path.write_text(old)
    assert report_main([str(tmp_path)]) == 0
    again = json.loads((tmp_path / "summary.json").read_text())["modes"]
    assert again["leaky"]["verdict"] == "leaking" and again["lru"]["metric_series_growth"] is None
