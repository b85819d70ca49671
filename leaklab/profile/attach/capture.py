"""Attach memray to a running API for a bounded time, then write what ``leaklab profile`` writes.

How tracking starts and ends, by whichever method gets in, is start.py's; this drives the load
meanwhile, copies the capture out and summarises it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from ...lab.load import LoadOptions, Locust
from ..report import served, write_summary
from .native import native_callers
from .options import AttachOptions
from .runner import LocalRunner, Runner
from .start import AttachFailed, start_tracking, stop_tracking
from .target import Target


def attach(
    target: Target, out: Path, options: AttachOptions, log: Callable[[str], None], runner: Runner | None = None
) -> dict[str, Any]:
    """Track ``target`` for ``options.duration_s`` seconds into ``out`` and return the summary it wrote."""
    runner = runner or LocalRunner()
    out.mkdir(parents=True, exist_ok=True)
    capture = (out / f"memray-attach-{target.pid}.bin").resolve()
    remote = runner.capture_path(capture)
    before = served(target.port)
    with runner.environment() as env:
        try:
            method = start_tracking(target, runner, remote, options, env, log)
        except BaseException:
            with contextlib.suppress(OSError):
                out.rmdir()  # nothing was attached: leave no empty folder behind (only an empty one goes)
            raise
        start = time.time()
        log(
            f"attached memray to PID {target.pid} with {method} for {options.duration_s}s"
            + (" with native stacks" if options.native else "")
        )
        failures = 0
        try:
            failures = _wait(target, out, options, start)
        finally:
            stop_tracking(target, runner, remote, method, env)
    runner.fetch(remote, capture)
    requests = None if before is None else (served(target.port) or before) - before
    fields = {
        "mode": "attached",
        "title": f"memray attached to PID {target.pid}",
        "where": f"Attached to PID {target.pid} for {options.duration_s} s",
        "pid": target.pid,
        "port": target.port,
        "duration_s": options.duration_s,
        "users": options.users,
        "wait_s": options.wait_s,
        "method": method,
        "requests": requests,
        "failures": failures,
        "native_callers": native_callers(capture) if options.native else [],
    }
    return write_summary(capture, out, fields, load_start=0.0, native=options.native, log=log)  # growth since attached


def _wait(target: Target, out: Path, options: AttachOptions, start: float) -> int:
    """Let the capture run (driving Locust when asked); the number of failed requests Locust saw."""
    if options.users and target.port is not None:
        load = LoadOptions(options.duration_s, options.users, float(options.users), "StoryUser", options.wait_s)
        locust = Locust(out, out / "locust", f"http://127.0.0.1:{target.port}", load)
        try:
            locust.proc.wait(options.duration_s + 60)
        finally:
            locust.stop()
        stats = locust.final()
        return stats.failures if stats else 0
    while time.time() - start < options.duration_s:
        if not psutil.pid_exists(target.pid):
            raise AttachFailed(f"PID {target.pid} exited while memray was tracking it (killed for its memory?)")
        time.sleep(0.2)
    return 0
