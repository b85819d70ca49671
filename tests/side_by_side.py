"""Several ``leaklab`` commands run side by side, each a process of its own (its own API, limit and Locust)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Mapping, Sequence


def start(commands: Mapping[str, Sequence[str]]) -> dict[str, subprocess.Popen[str]]:
    """Start every command at once; ``finish`` waits for them."""
    return {
        name: subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, argv in commands.items()
    }


def finish(
    started: Mapping[str, subprocess.Popen[str]], timeout_s: float
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Wait for each started command; whatever is left on the way out gets Ctrl-C (leaklab stops its own
    children on it)."""
    done: dict[str, subprocess.CompletedProcess[str]] = {}
    try:
        for name, proc in started.items():
            stdout, stderr = proc.communicate(timeout=timeout_s)
            done[name] = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    finally:
        for proc in started.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(60)
            for pipe in (proc.stdout, proc.stderr):  # closed now, not by a later test's garbage collection
                if pipe is not None:
                    pipe.close()
    return done


def side_by_side(
    commands: Mapping[str, Sequence[str]], timeout_s: float
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Start every command at once and wait for each."""
    return finish(start(commands), timeout_s)
