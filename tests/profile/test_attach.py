"""``leaklab attach``: memray attached to a real, running API under load, and the one-line refusals."""

from __future__ import annotations

import contextlib
import http.client
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from leaklab.procs import LOOPBACK
from leaklab_api.origin import Origin
from tests.conftest import ApiFactory, require_binary

PROJECT = Path(__file__).resolve().parents[2]
LEAKY = PROJECT / "services/api/leaklab_api/cache/leaky.py"
PAYLOAD_BYTES = len(Origin(10_000, 0).body)  # the default payload, as the API serves it
MAX_REQUESTS = 5_000  # the load stops by itself even if the test forgets to


def _line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), start=1) if text in line)


@contextlib.contextmanager
def steady_load(port: int, path: str = "/data") -> Iterator[None]:
    """GET ``path`` back to back on one keep-alive connection until the block ends (bounded in count)."""
    stop = threading.Event()

    def loop() -> None:
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=5)
        try:
            for _ in range(MAX_REQUESTS):
                if stop.is_set():
                    return
                with contextlib.suppress(OSError, http.client.HTTPException):
                    conn.request("GET", path)
                    conn.getresponse().read()
                stop.wait(0.01)
        finally:
            conn.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def attach(*args: str | Path, timeout_s: float = 180) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("memray")  # a skip fails the run in CI
    require_binary("gdb")
    argv = [sys.executable, "-m", "leaklab", "attach", *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, check=False)


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


@pytest.mark.slow
def test_attach_with_native_stacks_names_the_c_call_behind_the_native_leak(
    start_api: ApiFactory, tmp_path: Path
) -> None:
    api = start_api("lru", "--scenario", "native", "--origin-latency-ms", "0")
    native = PROJECT / "services/api/leaklab_api/scenarios/native.py"
    with steady_load(api.port):
        done = attach("--port", api.port, "--native", "--duration", "3s", "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    summary: dict[str, Any] = json.loads((tmp_path / "summary.json").read_text())
    top = summary["native_callers"][0]
    assert top["native"] != "<no native frame>", summary["native_callers"]  # a named C call
    # the Python line that made the C call: the scenario's leaking line, which tracemalloc cannot see
    leak_line = next(n for n, text in enumerate(native.read_text().splitlines(), start=1) if "THE LEAK" in text)
    assert top["python"] == f"services/api/leaklab_api/scenarios/native.py:{leak_line} in on_request()", top
    assert top["share"] >= 0.3
    assert f"native: {top['native']}" in done.stdout


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
