"""``leaklab profile``: a real API under memray, real Locust load, memray's own reports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from leaklab.cli import main as leaklab
from leaklab_api.origin import Origin

LEAKY = Path(__file__).resolve().parents[2] / "services/api/leaklab_api/cache/leaky.py"
PAYLOAD_BYTES = len(Origin(10_000, 0).body)  # the default payload, as the API serves it


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def _profile(tmp_path: Path, mode: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], Path]:
    pytest.importorskip("memray")  # a skip fails the run in CI
    out = tmp_path / mode
    done = subprocess.run(
        [sys.executable, "-m", "leaklab", "profile", "--mode", mode, "--duration", "5s", "--users", "8", "--out", out],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done, json.loads((out / "summary.json").read_text()), out


@pytest.mark.slow
def test_leaky_profile_names_the_cache_write_as_top_allocator(tmp_path: Path) -> None:
    done, summary, out = _profile(tmp_path, "leaky")
    cache_write = f"services/api/leaklab_api/cache/leaky.py:{_line_of(LEAKY, 'self._store[key] =')}"

    top = summary["top_sites"][0]
    assert top["site"] == cache_write, summary["top_sites"]
    assert top["function"] == "put"
    assert top["share"] >= 0.9
    requests = summary["requests"]
    assert requests >= 100
    # one payload-sized copy kept per request, nothing else
    assert top["count"] == pytest.approx(requests, rel=0.1)
    assert top["growth_bytes"] / top["count"] == pytest.approx(PAYLOAD_BYTES, rel=0.02)

    flamegraph = out / "flamegraph.html"
    assert flamegraph.stat().st_size > 100_000
    assert "leaky.py" in flamegraph.read_text()
    assert (out / "leaks.html").stat().st_size > 100_000
    assert (out / "memray-leaky.bin").exists()
    markdown = (out / "summary.md").read_text()
    assert cache_write in markdown and "It is the leak" in markdown
    # the command prints the summary and where every file is
    assert cache_write in done.stdout
    for name in ("flamegraph.html", "leaks.html", "summary.md", "summary.json"):
        assert str(out / name) in done.stdout


@pytest.mark.slow
def test_lru_profile_shows_no_line_growing_with_traffic(tmp_path: Path) -> None:
    _, summary, _ = _profile(tmp_path, "lru")
    bound = 10e6  # what lru mode may grow by; leaky mode would have grown clearly more under the same traffic
    requests = summary["requests"]  # a busy machine serves fewer under memray: the check is relative to the bound
    assert requests * PAYLOAD_BYTES > 1.5 * bound, f"too little traffic to tell: {requests} requests"
    growth = summary["peak_bytes"] - summary["load_start_bytes"]
    assert growth < bound
    sites = summary["top_sites"]
    assert all("cache/leaky.py" not in s["site"] for s in sites)
    # the LRU's 50 payloads (~3.5 MB) at most, whatever the number of requests
    assert all(s["growth_bytes"] < 5e6 for s in sites)
    assert "It is the leak" not in summary["paragraph"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--duration", "0s"], "duration must be between 1s and 3600s"),
        (["--duration", "soon"], "not a duration: 'soon'"),
        (["--duration", "2h"], "duration must be between 1s and 3600s (got '2h')"),
        (["--mode", "forever"], "invalid choice: 'forever'"),
        (["--users", "0"], "argument --users: must be from 1 to 500"),
        (["--wait-s", "fast"], "argument --wait-s: must be a number"),
    ],
)
def test_bad_arguments_get_one_clear_line(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        leaklab(["profile", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_missing_memray_says_how_to_install_it(tmp_path: Path) -> None:
    code = "import sys; sys.modules['memray'] = None; from leaklab.cli import main; sys.exit(main(sys.argv[1:]))"
    done = subprocess.run(
        [sys.executable, "-c", code, "profile", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "memray" in done.stderr and "pip install memray" in done.stderr
    assert not (tmp_path / "out").exists()  # nothing started, nothing written


@pytest.mark.slow
def test_native_stacks_name_the_call_tracemalloc_cannot_see(tmp_path: Path) -> None:
    pytest.importorskip("memray")
    out = tmp_path / "native"
    argv = ["profile", "--scenario", "native", "--native", "--duration", "4s", "--users", "4", "--out", out]
    done = subprocess.run(
        [sys.executable, "-m", "leaklab", *map(str, argv)], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    native = Path(__file__).resolve().parents[2] / "services/api/leaklab_api/scenarios/native.py"
    code = [n for n, line in enumerate(native.read_text().splitlines(), start=1) if "= self.libc.strdup(body)" in line]
    call = f"services/api/leaklab_api/scenarios/native.py:{code[-1]}"  # the code, not the docstring
    assert summary["native"] is True
    # the short load keeps the LRU's 50 entries beside it; the C copies are one per request
    site = next((s for s in summary["top_sites"] if s["site"] == call), None)
    assert site is not None, summary["top_sites"][:3]
    assert "strdup" in site["function"]  # the C function the Python line called into
    assert site["count"] == pytest.approx(summary["requests"], rel=0.1)  # one C copy kept per request
    # one flame graph: the leaks view of a native capture is left to memray, and the summary says how
    assert (out / "flamegraph.html").stat().st_size > 100_000
    assert not (out / "leaks.html").exists()
    assert f"python -m memray flamegraph --leaks {out / 'memray-native.bin'}" in (out / "summary.md").read_text()
