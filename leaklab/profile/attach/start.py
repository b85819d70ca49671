"""Start memray tracking in the target by the first method that gets in, and end it once the capture is whole.

``memray attach --duration`` stops tracking by itself, but only the target knows when it has finished
writing the capture. With gdb or ``sys.remote_exec`` the capture is ended with ``memray detach``, which
returns once the file is complete, and ``--duration`` (with some slack) is kept as a safety net: a
target left behind by a killed ``leaklab attach`` still stops tracking on its own. Through lldb,
``memray detach`` stops the target inside ``malloc`` while memray's hooks are live and the target dies
(a general protection fault in ``_memray``, seen with lldb-19 and memray 1.20): so with lldb tracking
runs for exactly the duration and ends by itself, and this waits for the finished file.
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Callable

import psutil

from .methods import Failure, candidates, debugger_cause, unavailable
from .options import AttachOptions
from .runner import ComposeRunner, Runner
from .target import AttachRefused, Target, explain_failure, not_the_debugger

SAFETY_SLACK_S = 60  # the target stops tracking by itself this long after the planned end
INJECT_TIMEOUT_S = 45.0  # per method: the target runs memray's code between two bytecodes of its main thread
DEBUGGER_TIMEOUT_S = 120.0  # gdb needs a few seconds; memray compresses the capture when detaching
ENDS_BY_ITSELF = {"lldb"}  # methods whose `memray detach` would kill the target (above)
POLL_S = 0.5
# Run in the target's filesystem: the capture's size, and whether memray wrote its end (it writes the end
# time last, then compresses the file into place, so a finished capture keeps its size between two polls).
FINISHED = (
    "import os, sys, memray\n"
    "with memray.FileReader(sys.argv[1]) as reader: meta = reader.metadata\n"
    "print(os.path.getsize(sys.argv[1]) if meta.end_time > meta.start_time else -1)"
)


class AttachFailed(RuntimeError):
    """The attach began but the capture could not be finished; the message says why."""


def start_tracking(
    target: Target,
    runner: Runner,
    remote: str,
    options: AttachOptions,
    env: dict[str, str],
    log: Callable[[str], None],
) -> str:
    """Run ``memray attach`` with each candidate method until one starts tracking; the method that did."""
    failed: list[Failure] = []
    for method in candidates(options.method):
        duration_s = options.duration_s + (0 if method in ENDS_BY_ITSELF else SAFETY_SLACK_S)
        argv = runner.memray("attach", str(target.pid), "--force", "--output", remote, "--duration", str(duration_s))
        argv += ["--native"] if options.native else []
        argv += ["--method", method, "--verbose"]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=INJECT_TIMEOUT_S, check=False, env=env)
        except subprocess.TimeoutExpired:  # the target's main thread, not the method: another would wait too
            raise AttachRefused(
                f"PID {target.pid} did not run memray's code within {INJECT_TIMEOUT_S:g}s (is its main thread blocked?)"
            ) from None
        if done.returncode == 0:
            for earlier in failed:  # said only now: when nothing attaches, the one refusal line says it all
                if earlier.available:
                    log(f"{earlier.method} could not attach memray ({earlier.cause}); {method} did")
            return method
        message = done.stderr.strip() or done.stdout.strip()
        failure = unavailable(method, message)
        if failure is None:
            if not_the_debugger(message):  # no other method would do better: say why at once
                raise AttachRefused(explain_failure(target, message))
            failure = Failure(method, debugger_cause(done.stdout) or " ".join(message.split()).rstrip("."))
        failed.append(failure)
    raise AttachRefused(none_attached(target, failed))


def none_attached(target: Target, failed: list[Failure]) -> str:
    """One line: every method that was there and failed, in the debugger's own words; then what was missing."""
    tried = [f for f in failed if f.available]
    missing = "; ".join(str(f) for f in failed if not f.available)
    if not tried:
        return f"memray has no way to attach to PID {target.pid}: {missing}"
    line = f"memray could not attach to PID {target.pid}: " + "; ".join(map(str, tried))
    return line + (f" (not tried: {missing})" if missing else "")


def stop_tracking(target: Target, runner: Runner, remote: str, method: str, env: dict[str, str]) -> None:
    """End tracking (or wait for it to end by itself) and return once the capture file is complete."""
    if method in ENDS_BY_ITSELF:
        _wait_until_finished(target, runner, remote, env)
        return
    argv = runner.memray("detach", str(target.pid), "--method", method)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=DEBUGGER_TIMEOUT_S, check=False, env=env)
    if done.returncode != 0 and (isinstance(runner, ComposeRunner) or _alive(target)):
        raise AttachFailed(f"memray detach failed: {' '.join((done.stderr or done.stdout).split())}")


def _wait_until_finished(target: Target, runner: Runner, remote: str, env: dict[str, str]) -> None:
    deadline = time.monotonic() + DEBUGGER_TIMEOUT_S
    last = None
    while time.monotonic() < deadline:
        size = _finished_size(runner, remote, env)
        if size is not None and size == last:
            return
        last = size
        if not isinstance(runner, ComposeRunner) and not _alive(target):
            raise AttachFailed(f"PID {target.pid} exited before memray finished the capture")
        time.sleep(POLL_S)
    raise AttachFailed(f"memray did not finish the capture of PID {target.pid} within {DEBUGGER_TIMEOUT_S:g}s")


def _finished_size(runner: Runner, remote: str, env: dict[str, str]) -> int | None:
    """The capture's size once memray has written its end, else None (still tracking, or being compressed)."""
    try:
        done = subprocess.run(
            runner.python("-c", FINISHED, remote), capture_output=True, text=True, timeout=30, env=env
        )
    except subprocess.TimeoutExpired:
        return None
    words = done.stdout.split()
    return int(words[-1]) if done.returncode == 0 and words and int(words[-1]) >= 0 else None


def _alive(target: Target) -> bool:
    with contextlib.suppress(psutil.Error):
        return bool(psutil.Process(target.pid).status() != psutil.STATUS_ZOMBIE)
    return False
