"""``leaklab judge --csv``: real-world exports read as the judge needs them, and bad files refused in one line."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leaklab.judge.command import main
from leaklab.judge.csvfile import read_csv
from leaklab.judge.inputs import tidy

MIB = 1024 * 1024
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


def leak_rows(minutes: int = 10, rate_mib_per_min: float = 6.0) -> list[tuple[float, float]]:
    """Readings every ~2 s (uneven) of a steady leak from 80 MiB, with a gap of a minute in the middle."""
    out, t = [], 0.0
    while t < minutes * 60:
        if not 240 <= t < 300:
            out.append((t, 80 * MIB + rate_mib_per_min * MIB * t / 60 + 200_000 * math.sin(t)))
        t += 1.5 + (int(t) % 3) * 0.5
    return out


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_an_iso_export_unsorted_with_repeats_and_empty_cells_is_judged_leaking(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [f"{(START + timedelta(seconds=t)).isoformat()},api-1,{v:.0f}" for t, v in leak_rows()]
    rows = rows[::2][::-1] + rows[1::2]  # unsorted, as a merged export comes
    rows += [rows[5], rows[40].rsplit(",", 1)[0] + ",", rows[60].rsplit(",", 1)[0] + ",NaN"]  # a repeat, missing cells
    path = write(tmp_path / "pod.csv", "timestamp,pod,working_set_bytes", rows)
    code, out, _ = run(["--csv", str(path), "--json", "--limit", "512M"], capsys)
    verdict = json.loads(out)
    assert (code, verdict["verdict"], verdict["name"]) == (1, "leaking", "working_set_bytes")
    assert verdict["rate_mib_per_min"] == pytest.approx(6.0, rel=0.1)
    assert verdict["limit_bytes"] == 512 * MIB


def test_the_line_names_the_series_verdict_rate_fit_restarts_and_time_to_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "mem.csv", "t,rss", [f"{t:.1f},{v:.0f}" for t, v in leak_rows()])
    code, out, _ = run(["--csv", str(path), "--limit", "512M"], capsys)
    line = out.strip()
    assert code == 1 and len(out.splitlines()) == 1
    assert line.startswith("rss") and "leaking" in line and "MiB/min" in line
    assert "restarts 0" in line and "limit 512 MiB" in line


def test_the_columns_are_found_by_name_or_given(tmp_path: Path) -> None:
    rows = [f"{t:.1f},host-a,{v:.0f},{v * 2:.0f}" for t, v in leak_rows()]
    path = write(tmp_path / "m.csv", "Time,host,rss,vsz", rows)
    assert read_csv(path).name == "rss"  # the time column by name, the value the first numeric one after it
    chosen = read_csv(path, time_col="Time", value_col="vsz")
    assert chosen.name == "vsz" and chosen.series.values[0] == pytest.approx(2 * leak_rows()[0][1], abs=1)


def test_a_process_column_marks_restarts(tmp_path: Path) -> None:
    rows = [f"{t},{100 + t},{1 if t < 50 else 2}" for t in range(100)]
    path = write(tmp_path / "p.csv", "t,rss,pid", rows)
    series = read_csv(path, process_col="pid").series
    assert series.process is not None and series.process[49] == "1" and series.process[50] == "2"


def test_tidy_sorts_averages_repeated_times_and_makes_missing_readings_none() -> None:
    series = tidy([3.0, 1.0, 2.0, 2.0, 4.0], [30.0, 10.0, 20.0, 22.0, float("nan")])
    assert list(series.t_s) == [1.0, 2.0, 3.0, 4.0]
    assert list(series.values) == [10.0, 21.0, 30.0, None]


def test_a_flat_series_is_bounded_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [f"{t},{90 * MIB + 300_000 * math.sin(t / 7):.0f}" for t in range(0, 600, 2)]
    code, out, _ = run(["--csv", str(write(tmp_path / "flat.csv", "t,rss", rows))], capsys)
    assert code == 0 and " bounded " in out


def test_a_series_too_short_to_judge_is_inconclusive_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "short.csv", "t,rss", ["0,100000000", "1,100100000", "2,100200000"])
    code, out, err = run(["--csv", str(path), "--json"], capsys)
    assert (code, json.loads(out)["verdict"], err) == (3, "inconclusive", "")


@pytest.mark.parametrize(
    ("header", "rows", "flags", "message"),
    [
        (None, None, [], "--csv: no such file"),
        ("", [], [], "is empty"),
        ("t,rss", [], [], "has a header but no rows"),
        ("0,100", ["1,101"], [], "has no header row"),
        ("t,rss", ["0,100", "1,lots"], ["--value-col", "rss"], "--csv: column 'rss' is not numeric (line 3: 'lots')"),
        ("t,host", ["0,a", "1,b"], [], "no numeric column besides 't'"),
        ("t,rss", ["0,100"], ["--value-col", "heap"], "--value-col: no column 'heap'"),
        ("t,rss", ["0,100"], ["--time-col", "when"], "--time-col: no column 'when'"),
        ("when,rss", ["0,100"], [], "no column named t, time or timestamp"),
        ("t,rss", ["yesterday,100"], [], "line 2: time 'yesterday' in column 't' is neither seconds nor an ISO 8601"),
    ],
)
def test_bad_files_get_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    header: str | None,
    rows: list[str] | None,
    flags: list[str],
    message: str,
) -> None:
    path = tmp_path / "in.csv"
    if header is not None:
        path.write_text("\n".join([header, *(rows or [])]) + ("\n" if header else ""))
    code, out, err = run(["--csv", str(path), *flags], capsys)
    assert (code, out) == (2, "")
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_the_installed_command_exits_with_the_verdict_and_never_a_traceback(tmp_path: Path) -> None:
    leaking = write(tmp_path / "leak.csv", "t,rss", [f"{t:.1f},{v:.0f}" for t, v in leak_rows()])
    command = [sys.executable, "-m", "leaklab", "judge", "--csv"]
    done = subprocess.run([*command, str(leaking)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    missing = subprocess.run([*command, str(tmp_path / "nope.csv")], capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip() == f"leaklab judge: error: --csv: no such file: {tmp_path / 'nope.csv'}"
