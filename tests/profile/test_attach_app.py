"""``leaklab attach --pid`` on the lab's launcher: memray in your app's process while it serves, no restart."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from leaklab.lab.app.target import AppTarget
from leaklab.procs import http_get
from tests.lab.conftest import EXAMPLES, line_of

from .test_attach import attach, steady_load


@pytest.mark.slow
def test_attach_to_the_launcher_names_the_apps_line_and_leaves_it_serving(tmp_path: Path) -> None:
    app_dir = EXAMPLES / "fastapi_gc_cycles"
    server = AppTarget("app:app", app_dir, Path(sys.executable)).spawn(tmp_path, [])
    try:
        server.wait_healthy()
        out = tmp_path / "attach"
        with steady_load(server.port, "/orders/attached"):
            done = attach("--pid", server.pid, "--duration", "4s", "--out", out)
        assert done.returncode == 0, done.stderr
        assert f"attached memray to PID {server.pid} with " in done.stderr
        summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
        node_text = f"examples/fastapi_gc_cycles/app.py:{line_of(app_dir / 'app.py', 'self.text = f')}"
        assert summary["top_sites"][0]["site"] == node_text, summary["top_sites"]
        assert server.alive() and http_get(server.port, "/orders/after")[0] == 200  # still serving, not restarted
    finally:
        server.stop()
