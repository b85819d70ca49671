"""One run of the experiment on a target: its memory limit, the target's process, Locust, a sample a second.

The target is the lab's API (a cache mode or a scenario, with Redis in redis mode), the user's app or
their command (``target.py``). Its process is restarted after it dies, like Compose's
``restart: unless-stopped``; every kill and restart is recorded. Whatever happens (the end of the load,
Ctrl-C, a child that will not start), every child is stopped by its PID and the cgroup is removed
before ``run_target`` returns.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..procs import ChildDied
from . import limits
from .alloc import AllocRecorder
from .load import Locust
from .options import LabOptions
from .result import ModeResult
from .sampler import Sample, Sampler, backfill_load, load_seen
from .target import Server, Target

MAX_FAILED_RESTARTS = 3


Progress = Callable[[ModeResult, Sample, float], None]


def run_target(target: Target, opts: LabOptions, out: Path, progress: Progress | None = None) -> ModeResult:
    """Run ``target`` under ``opts``; logs and Locust CSVs go to ``out/logs``. Never leaves a child behind.

    ``result.started`` says whether its first process ever became healthy (else ``result.error`` says why).
    """
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    mode = target.name
    result = ModeResult(mode)
    api: Server | None = None
    locust: Locust | None = None
    limit: limits.MemoryLimit | None = None
    sampler: Sampler | None = None
    started = time.monotonic()
    try:
        limit, result.limit_notes = limits.choose(opts.mem_limit_bytes, target.slug, opts.mechanism)
        result.limit_mechanism, result.limit_description = limit.name, limit.description
        result.limit_where = limit.where
        target.prepare(logs)
        api = target.spawn(logs, limit.argv_prefix())
        limit.attach(api.pid)
        api.wait_healthy()
        result.started = True
        sampler = Sampler(mode, limit, target.redis_port, rss=target.rss)
        traced = opts.alloc_sites and api.debug_port is not None
        recorder = AllocRecorder(opts.load.duration_s, at_end=target.own) if traced else None
        locust = Locust(logs, logs / f"locust-{target.slug}", api.url, target.load(opts.load))
        result.web_url = locust.web_url
        started = time.monotonic()
        failed_restarts = 0
        next_tick = started
        while True:
            t = time.monotonic() - started
            if not locust.alive() and t > 1:
                break
            if t > opts.load.duration_s + 20:  # Locust should have stopped by itself long ago
                break
            if not api.alive():
                api = _restart(target, api, limit, result, t, logs)
                try:
                    api.wait_healthy()
                except ChildDied as exc:
                    failed_restarts += 1
                    result.events.append({"t_s": round(t, 2), "kind": "restart-failed", "detail": str(exc)})
                    if failed_restarts >= MAX_FAILED_RESTARTS:
                        raise ChildDied(f"{api.name} kept dying right after start:\n{exc}") from None
                    api.stop()  # dead or hung: the next tick starts it again
                else:
                    failed_restarts = 0
                    result.restarts += 1
                    result.events.append({"t_s": round(t, 2), "kind": "restarted", "detail": f"new pid {api.pid}"})
            if recorder is not None:
                recorder.step(api, t, load_running=bool(result.samples and load_seen(result.samples[-1])))
                result.alloc = result.alloc or recorder.done  # the live view shows what grew once it is known
            sample = sampler.take(
                t,
                api.pid if api.alive() else None,
                api.metrics_port,
                locust,
                oom_kills=_oom_kills(limit, result),
                restarts=result.restarts,
                scrape_metrics=recorder is None or not recorder.recording,
                tracing=recorder is not None and recorder.recording,
            )
            result.samples.append(sample)
            if progress is not None:
                progress(result, sample, t)
            next_tick += 1.0
            time.sleep(max(0.05, next_tick - time.monotonic()))
        if recorder is not None:
            result.alloc = recorder.result(api)
        if locust.proc.returncode not in (None, 0, 1) or time.monotonic() - started < opts.load.duration_s * 0.8:
            result.error = str(locust.died())  # Locust exits 1 when requests failed; anything else is its own error
    except KeyboardInterrupt:
        result.interrupted = True
        result.events.append({"t_s": round(time.monotonic() - started, 2), "kind": "interrupted", "detail": "Ctrl-C"})
    except (ChildDied, limits.LimitError) as exc:
        result.error = str(exc)
    finally:
        result.duration_s = time.monotonic() - started
        previous = _ignore_sigint()  # a second Ctrl-C must not interrupt the clean-up
        for child in (locust, api):
            if child is not None:
                with contextlib.suppress(Exception):
                    child.stop()
        with contextlib.suppress(Exception):
            target.close()
        if locust is not None:
            result.load = locust.final()
            backfill_load(result.samples, locust.history())
        if limit is not None:
            result.oom_kills = _oom_kills(limit, result)
            limit.close()
        if sampler is not None:
            sampler.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    return result


def _ignore_sigint() -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGINT, signal.SIG_IGN)


def _oom_kills(limit: limits.MemoryLimit, result: ModeResult) -> int:
    counted = limit.oom_kills()
    by_exit = sum(1 for e in result.events if e["kind"] == "killed")
    return max(counted or 0, by_exit) if counted is not None else by_exit


def _restart(
    target: Target, api: Server, limit: limits.MemoryLimit, result: ModeResult, t: float, logs: Path
) -> Server:
    """The target's process died: record how, then start it again on the same port (``restart: unless-stopped``).

    The new process is returned before it is healthy, so whoever waits for it can also stop it.
    """
    code = api.proc.returncode
    api.stop()
    killed = code in (-9, 137)
    result.events.append(
        {
            "t_s": round(t, 2),
            "kind": "killed" if killed else "exited",
            "detail": f"exit code {code}" + (f", {limit.name} OOM kill" if killed else "") + f" (pid {api.pid})",
            "last_log": "" if killed else api.log_tail(5),
        }
    )
    new = target.spawn(logs, limit.argv_prefix(), port=api.port)
    limit.attach(new.pid)
    return new
