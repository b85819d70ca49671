"""``leaklab judge RUN_DIR``: a verdict per mode of a real recorded run, with what the run knew as context.

The run is one of the corpus' recordings: ``leaklab compare --scenarios all --duration 30s`` on this lab,
kept as ``samples.csv.gz`` with the columns the judge reads.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from leaklab.judge.command import main
from leaklab.judge.corpus.compact import compact
from leaklab.judge.corpus.recorded import HERE
from leaklab.judge.rundir import read_run
from leaklab.lab.catalogue import SCENARIOS, catalogue_runs

RUN = HERE / "catalogue-30s"
FIXED = [f"{s}-fixed" for s in SCENARIOS]


def test_a_recorded_run_gets_one_line_per_mode_in_the_order_they_ran(capsys: pytest.CaptureFixture[str]) -> None:
    code = main([str(RUN)])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == catalogue_runs(list(SCENARIOS))
    assert code == 1  # leaky runs in it: the worst decides


def test_the_leaky_runs_that_reached_the_limit_are_leaking(capsys: pytest.CaptureFixture[str]) -> None:
    main([str(RUN), "--json"])
    verdicts = {v["name"]: v for v in json.loads(capsys.readouterr().out)}
    killed = [item.name for item in read_run(RUN) if item.context.oom_kills]
    assert set(killed) >= {"cache", "memoize", "tasks", "native"}
    assert all(verdicts[name]["verdict"] == "leaking" for name in killed)
    assert all(v["limit_bytes"] == 192 * 1024 * 1024 for v in verdicts.values())  # the lab's limit, from the run


def test_the_fixed_runs_are_not_called_leaking(capsys: pytest.CaptureFixture[str]) -> None:
    main([str(RUN), "--json"])
    verdicts = {v["name"]: v["verdict"] for v in json.loads(capsys.readouterr().out)}
    assert {name: verdicts[name] for name in FIXED if verdicts[name] == "leaking"} == {}


def test_the_context_carries_what_the_run_knew() -> None:
    runs = {item.name: item for item in read_run(RUN)}
    cache, fixed, labels = runs["cache"], runs["cache-fixed"], runs["metric-labels"]
    assert cache.context.oom_kills == 1 and len(cache.oom_s) == 1
    assert cache.series.process is not None and len(set(cache.series.process) - {None}) == 2  # restarted once
    assert fixed.context.excluded_s, "the tracemalloc window is left out"
    assert fixed.context.load_s is not None and fixed.context.load_s[0] < 3
    assert fixed.context.fill and fixed.context.fill[-1][1] == pytest.approx(1.0)  # the LRU filled its 50 entries
    assert labels.context.metric_series is not None
    counts = [v for v in labels.context.metric_series.values if v is not None]
    assert counts[-1] > counts[0] + 100  # the label leak: a series a request


def test_a_full_run_directory_reads_like_its_compact_copy(tmp_path: Path) -> None:
    full = tmp_path / "report"
    full.mkdir()
    (full / "samples.csv").write_bytes(gzip.decompress((RUN / "samples.csv.gz").read_bytes()))
    assert [i.series for i in read_run(full)] == [i.series for i in read_run(RUN)]
    again = compact(full, tmp_path / "again")
    assert again.read_bytes() == (RUN / "samples.csv.gz").read_bytes()  # compacting is byte for byte repeatable


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: None, "no such run directory"),
        (lambda d: d.mkdir(), "holds no samples.csv"),
        (lambda d: (d.mkdir(), (d / "samples.csv").write_text("a,b\n1,2\n")), "is not a leaklab samples file"),
        (lambda d: d.write_text("t,rss\n"), "is a file: give a run directory, or a CSV file with --csv"),
    ],
)
def test_a_directory_that_is_no_run_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, message: str
) -> None:
    target = tmp_path / "run"
    make(target)  # type: ignore[operator]
    code = main([str(target)])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1 and message in err, err
