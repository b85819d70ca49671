"""Fixtures that start real components: a ``redis-server`` and ``leaklab api`` processes.

In CI (``CI=true``) a skipped test fails the run: every component must be installed there.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from leaklab.procs import ApiServer, MissingBinary, RedisServer, require

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    # started in the background by a shell without job control (``(make test &)``): SIGINT is ignored, and every
    # command a test starts would inherit that and shrug off the Ctrl-C the tests send it. A handler, unlike
    # SIG_IGN, is reset to the default in a child, so the commands get Ctrl-C as a terminal would give it.
    signal.signal(signal.SIGINT, signal.default_int_handler)
_skipped: list[str] = []


def require_binary(name: str) -> str:
    """The binary's path, or skip the test (which fails the run in CI)."""
    try:
        return require(name)
    except MissingBinary as exc:
        pytest.skip(str(exc))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if IN_CI and _skipped:
        terminalreporter.write_line(
            f"CI=true: {len(_skipped)} skipped test(s) fail the run: " + ", ".join(_skipped), red=True
        )


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, maxmemory 16mb, allkeys-lru."""
    require_binary("redis-server")
    server = RedisServer(tmp_path, maxmemory="16mb")
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A redis-py client on ``redis_server``, closed after the test."""
    client = redis.Redis.from_url(redis_server.url, socket_timeout=5)
    yield client
    client.close()


ApiFactory = Callable[..., ApiServer]


@pytest.fixture
def start_api(tmp_path: Path) -> Iterator[ApiFactory]:
    """Start ``leaklab api`` processes; each is stopped (by PID) after the test."""
    started: list[ApiServer] = []

    def start(mode: str, *extra_args: str, env: dict[str, str] | None = None) -> ApiServer:
        api = ApiServer(tmp_path, mode, extra_args=extra_args, env=env)
        started.append(api)
        return api

    yield start
    for api in started:
        api.stop()
