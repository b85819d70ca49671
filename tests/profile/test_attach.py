"""``leaklab attach``: memray attached to a real, running API under load, and the one-line refusals."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leaklab.profile.attach.methods import LLDB_PACKAGE, versioned_lldb
from leaklab_api.origin import Origin
from tests.conftest import ApiFactory, require_binary
from tests.load import BackgroundLoad

PROJECT = Path(__file__).resolve().parents[2]
LEAKY = PROJECT / "services/api/leaklab_api/cache/leaky.py"
PAYLOAD_BYTES = len(Origin(10_000, 0).body)  # the default payload, as the API serves it
MAX_REQUESTS = 5_000  # the load stops by itself even if the test forgets to


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


def steady_load(port: int, path: str = "/data") -> BackgroundLoad:
    """GET ``path`` (``/data``: a fresh key each) back to back on one keep-alive connection until the block ends."""
    return BackgroundLoad(port, threads=1, path=path, pause_s=0.01, max_requests=MAX_REQUESTS)


def attach(*args: str | Path, timeout_s: float = 180, path: str | None = None) -> subprocess.CompletedProcess[str]:
    """``leaklab attach ARGS``; ``path`` replaces ``$PATH``, where memray looks for its debuggers."""
    pytest.importorskip("memray")  # a skip fails the run in CI
    require_binary("gdb")
    argv = [sys.executable, "-m", "leaklab", "attach", *map(str, args)]
    env = os.environ | ({"PATH": path} if path is not None else {})
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False, env=env)


AMX_GDB = """#!/bin/sh
# gdb as Debian 12's gdb 13.1 behaves on a CPU with AMX: it attaches, then cannot call into the target.
script=""
for arg in "$@"; do case "$arg" in -x=*) script="${arg#-x=}";; esac; done
echo '$1 = "MEMRAY: Attached to process."'
echo '$2 = "MEMRAY: Checking if process is Python 3.7+."'
echo '$7 = "MEMRAY: Process is Python 3.7+."'
echo "$script:18: Error in sourced command file:"
echo "Couldn't write extended state status: Bad address."
exit 1
"""


@pytest.fixture
def amx_gdb(tmp_path: Path) -> Path:
    """A folder whose ``gdb`` fails exactly as gdb 13.1 does on an AMX CPU (this machine may have none)."""
    folder = tmp_path / "amx-bin"
    folder.mkdir()
    (folder / "gdb").write_text(AMX_GDB)
    (folder / "gdb").chmod(0o755)
    return folder


@pytest.mark.slow
def test_when_gdb_fails_as_on_an_amx_cpu_attach_falls_back_to_lldb_and_names_the_cache_write(
    start_api: ApiFactory, tmp_path: Path, amx_gdb: Path
) -> None:
    if versioned_lldb() is None and shutil.which("lldb") is None:
        require_binary(LLDB_PACKAGE)  # make deps installs it; a skip fails the run in CI
    api = start_api("leaky")
    out = tmp_path / "out"
    with steady_load(api.port):
        done = attach(
            "--port", api.port, "--duration", "4s", "--out", out, path=f"{amx_gdb}{os.pathsep}{os.environ['PATH']}"
        )
    assert done.returncode == 0, done.stderr
    assert "gdb could not attach memray (Couldn't write extended state status: Bad address); lldb did" in done.stderr
    assert f"attached memray to PID {api.proc.pid} with lldb for 4s" in done.stderr
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    assert summary["method"] == "lldb"
    cache_write = f"services/api/leaklab_api/cache/leaky.py:{_line_of(LEAKY, 'self._store[key] =')}"
    assert summary["top_sites"][0]["site"] == cache_write, summary["top_sites"]
    assert f"The top allocator is {cache_write} in put()" in done.stdout
    assert api.alive() and api.get("/healthz")[0] == 200  # lldb left it running, not stopped or killed


def test_when_no_method_attaches_the_one_line_names_the_debuggers_own_message(
    start_api: ApiFactory, amx_gdb: Path, tmp_path: Path
) -> None:
    api = start_api("leaky")
    out = tmp_path / "out"
    line = _one_line_refusal(attach("--port", api.port, "--duration", "2s", "--out", out, path=str(amx_gdb)))
    assert (
        f"memray could not attach to PID {api.proc.pid}: gdb: Couldn't write extended state status: Bad address" in line
    )
    assert f"lldb: lldb is not installed (make deps-attach installs {LLDB_PACKAGE})" in line
    assert api.alive() and api.get("/healthz")[0] == 200
    assert not out.exists()  # nothing attached, no empty folder left behind


def test_a_forced_method_that_is_missing_is_refused_in_one_line(
    start_api: ApiFactory, amx_gdb: Path, tmp_path: Path
) -> None:
    api = start_api("leaky")
    argv = ("--port", api.port, "--method", "lldb", "--duration", "2s", "--out", tmp_path / "out")
    line = _one_line_refusal(attach(*argv, path=str(amx_gdb)))
    assert f"memray has no way to attach to PID {api.proc.pid}: lldb: lldb is not installed" in line
    assert "gdb" not in line.split("cannot attach: ", 1)[1].split(". Instead", 1)[0]


@pytest.mark.slow
def test_attach_to_the_running_leaky_api_names_the_cache_write(start_api: ApiFactory, tmp_path: Path) -> None:
    api = start_api("leaky")
    with steady_load(api.port):
        done = attach("--port", api.port, "--duration", "4s", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads((tmp_path / "summary.json").read_text())
    cache_write = f"services/api/leaklab_api/cache/leaky.py:{_line_of(LEAKY, 'self._store[key] =')}"
    assert summary["pid"] == api.proc.pid
    top = summary["top_sites"][0]
    assert top["site"] == cache_write, summary["top_sites"]
    assert top["share"] >= 0.8
    assert summary["requests"] >= 20
    # one payload-sized copy kept per request (the count includes requests served while gdb attached)
    assert 20 <= top["count"] <= summary["requests"]
    assert top["bytes"] / top["count"] == pytest.approx(PAYLOAD_BYTES, rel=0.02)
    assert f"The top allocator is {cache_write} in put()" in done.stdout
    assert "It is the leak" in done.stdout
    assert (tmp_path / "flamegraph.html").stat().st_size > 100_000
    assert (tmp_path / "leaks.html").stat().st_size > 100_000
    assert cache_write in (tmp_path / "summary.md").read_text()
    # attached, not restarted: the same process keeps serving
    assert api.alive() and api.get("/healthz")[0] == 200


def _one_line_refusal(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("leaklab attach: cannot attach: ")
    assert "leaklab profile" in lines[0] and "Traceback" not in done.stderr
    return lines[0]


def test_attach_to_a_pid_that_does_not_exist_is_refused_in_one_line() -> None:
    line = _one_line_refusal(attach("--pid", "4194303", "--duration", "2s"))
    assert "no process has PID 4194303" in line


def test_attach_to_a_port_nobody_listens_on_is_refused_in_one_line() -> None:
    line = _one_line_refusal(attach("--port", "1", "--duration", "2s"))
    assert "nothing listens on port 1" in line


def _started(argv: list[str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(argv)
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait(10)


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    """A process that is not Python at all."""
    yield from _started(["sleep", "120"])


@pytest.fixture
def python_without_memray() -> Iterator[subprocess.Popen[bytes]]:
    """A Python whose site-packages are off (``-S``), so memray cannot be imported inside it."""
    yield from _started([sys.executable, "-S", "-c", "import time\nwhile True: time.sleep(0.05)"])


def test_attach_to_a_process_that_is_not_python_is_refused_in_one_line(sleeper: subprocess.Popen[bytes]) -> None:
    line = _one_line_refusal(attach("--pid", str(sleeper.pid), "--duration", "2s"))
    assert f"PID {sleeper.pid} runs sleep, not Python" in line


@pytest.mark.slow
def test_attach_to_a_python_that_cannot_import_memray_is_refused_in_one_line(
    python_without_memray: subprocess.Popen[bytes],
) -> None:
    line = _one_line_refusal(attach("--pid", str(python_without_memray.pid), "--duration", "2s"))
    assert f"the Python running PID {python_without_memray.pid} cannot import memray" in line
    assert python_without_memray.poll() is None  # the failed attach left it running
