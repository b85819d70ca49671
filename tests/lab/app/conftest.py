"""A started launcher on an app (the examples and the bare virtualenv are ``tests/lab/conftest.py``'s)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from leaklab.lab.app.processes import AppServer
from leaklab.lab.app.target import AppTarget

Launch = Callable[..., AppServer]


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[Launch]:
    """Start the launcher on an app (``AppTarget``), waited for until it serves; stopped (by PID) afterwards."""
    started: list[AppServer] = []

    def start(spec: str, app_dir: Path, python: Path | None = None, interface: str = "auto") -> AppServer:
        target = AppTarget(spec, app_dir.resolve(), python or Path(sys.executable), interface)
        server = target.spawn(tmp_path, [])
        started.append(server)  # type: ignore[arg-type]
        server.wait_healthy()
        return server  # type: ignore[return-value]

    yield start
    for server in started:
        server.stop()
