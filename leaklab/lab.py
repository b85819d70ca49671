"""One mode's run: Redis (redis mode), the API under its memory limit, Locust, a sample a second.

The API is restarted after it dies, like Compose's ``restart: unless-stopped``; every kill and restart
is recorded. Whatever happens (the end of the load, Ctrl-C, a child that will not start), every child
is stopped by its PID and the cgroup is removed before ``run_mode`` returns.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import limits
from .load import FinalStats, LoadOptions, Locust
from .procs import LOOPBACK, ApiServer, ChildDied, RedisServer
from .sampler import Sample, Sampler, backfill_load

MAX_FAILED_RESTARTS = 3


@dataclass(frozen=True, slots=True)
class LabOptions:
    """Everything that is the same for each mode of a run or a comparison."""

    load: LoadOptions
    mem_limit_bytes: int
    mechanism: str = "auto"
    redis_maxmemory: str = "64mb"
    alloc_sites: bool = True
    api_args: tuple[str, ...] = ()


@dataclass(slots=True)
class ModeResult:
    mode: str
    samples: list[Sample] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    load: FinalStats | None = None
    alloc: dict[str, Any] | None = None
    limit_mechanism: str = ""
    limit_description: str = ""
    limit_where: str = ""
    limit_notes: list[str] = field(default_factory=list)
    oom_kills: int = 0
    restarts: int = 0
    duration_s: float = 0.0
    interrupted: bool = False
    error: str | None = None
    web_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "limit_mechanism": self.limit_mechanism,
            "limit_description": self.limit_description,
            "limit_where": self.limit_where,
            "limit_notes": self.limit_notes,
            "events": self.events,
            "load": asdict(self.load) if self.load else None,
            "alloc": self.alloc,
            "duration_s": round(self.duration_s, 2),
            "interrupted": self.interrupted,
            "error": self.error,
        }


Progress = Callable[[ModeResult, Sample, float], None]


def run_mode(mode: str, opts: LabOptions, out: Path, progress: Progress | None = None) -> ModeResult:
    """Run ``mode`` under ``opts``; logs and Locust CSVs go to ``out/logs``. Never leaves a child behind."""
    logs = out / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    result = ModeResult(mode)
    redis: RedisServer | None = None
    api: ApiServer | None = None
    locust: Locust | None = None
    limit: limits.MemoryLimit | None = None
    sampler: Sampler | None = None
    started = time.monotonic()
    try:
        limit, result.limit_notes = limits.choose(opts.mem_limit_bytes, mode, opts.mechanism)
        result.limit_mechanism, result.limit_description = limit.name, limit.description
        result.limit_where = limit.where
        extra = ["--debug", *opts.api_args]
        if mode == "redis":
            redis = RedisServer(logs, maxmemory=opts.redis_maxmemory, policy="allkeys-lru", wait=False)
            redis.wait_ready()
            extra += ["--redis-url", redis.url]
        api = ApiServer(logs, mode, extra_args=extra, argv_prefix=limit.argv_prefix(), wait=False)
        limit.attach(api.pid)
        api.wait_healthy()
        sampler = Sampler(mode, limit, redis.port if redis else None)
        recorder = AllocRecorder(opts.load.duration_s) if opts.alloc_sites else None
        locust = Locust(logs, logs / f"locust-{mode}", api.url, opts.load)
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
                api = _restart(api, limit, result, t, logs, extra)
                try:
                    api.wait_healthy()
                except ChildDied as exc:
                    failed_restarts += 1
                    result.events.append({"t_s": round(t, 2), "kind": "restart-failed", "detail": str(exc)})
                    if failed_restarts >= MAX_FAILED_RESTARTS:
                        raise ChildDied(f"leaklab api ({mode}) kept dying right after start:\n{exc}") from None
                    api.stop()  # dead or hung: the next tick starts it again
                else:
                    failed_restarts = 0
                    result.restarts += 1
                    result.events.append({"t_s": round(t, 2), "kind": "restarted", "detail": f"new pid {api.pid}"})
            if recorder is not None:
                recorder.step(api, t, load_running=bool(result.samples and _load_seen(result.samples[-1])))
            sample = sampler.take(
                t,
                api.pid if api.alive() else None,
                api.port,
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
        for child in (locust, api, redis):
            if child is not None:
                with contextlib.suppress(Exception):
                    child.stop()
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


def _load_seen(s: Sample) -> bool:
    """Requests have arrived: the API counted cache lookups, or Locust counted requests."""
    return bool(s.requests_total or (s.hits_total or 0) + (s.misses_total or 0) > 0)


def _oom_kills(limit: limits.MemoryLimit, result: ModeResult) -> int:
    counted = limit.oom_kills()
    by_exit = sum(1 for e in result.events if e["kind"] == "killed")
    return max(counted or 0, by_exit) if counted is not None else by_exit


def _restart(
    api: ApiServer, limit: limits.MemoryLimit, result: ModeResult, t: float, logs: Path, extra: list[str]
) -> ApiServer:
    """The API died: record how, then start it again on the same port (``restart: unless-stopped``).

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
    new = ApiServer(logs, api.mode, extra_args=extra, port=api.port, argv_prefix=limit.argv_prefix(), wait=False)
    limit.attach(new.pid)
    return new


class AllocRecorder:
    """Records allocation sites with tracemalloc for a short window while the load runs.

    Like the story's DevTools recording: tracing costs CPU (the API serves ~3x fewer requests at full
    speed, and every ``/metrics`` snapshot takes ~0.3 s), so it runs only for a window, then stops and
    frees its memory. A window cut short by a restart is recorded again if time is left.
    """

    def __init__(self, duration_s: float) -> None:
        self.warmup_s = min(3.0, duration_s * 0.1)
        self.window_s = min(10.0, max(2.0, duration_s * 0.2))
        self.duration_s = duration_s
        self.recording = False
        self._pid: int | None = None
        self._since = 0.0
        self._load_since: float | None = None
        self._done: dict[str, Any] | None = None

    def step(self, api: ApiServer, t: float, load_running: bool) -> None:
        if self._done is not None:
            return
        if self._load_since is None:
            if not load_running:
                return
            self._load_since = t
        if self.recording and (self._pid != api.pid or not api.alive()):
            self.recording = False  # the process that was traced is gone
        if not self.recording:
            end = self._load_since + self.duration_s
            time_left = t >= self._load_since + self.warmup_s and t + self.window_s + 1 < end
            if time_left and api.alive() and _post(api.port, "/debug/memory/start") == 200:
                self.recording, self._pid, self._since = True, api.pid, t
            return
        if t - self._since >= self.window_s:
            self._done = self._fetch(api, t)
            _post(api.port, "/debug/memory/stop")
            self.recording = False

    def _fetch(self, api: ApiServer, t: float) -> dict[str, Any] | None:
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
            status, _, body = api.get("/debug/memory?limit=10", timeout_s=10)
            if status == 200:
                data: dict[str, Any] = json.loads(body)
                data.update({"from_s": round(self._since, 1), "to_s": round(t, 1)})
                return data
        return None

    def result(self, api: ApiServer) -> dict[str, Any] | None:
        if self._done is None and self.recording and api.alive():
            self._done = self._fetch(api, self._since + self.window_s)
        return self._done


def _post(port: int, path: str, timeout_s: float = 5.0) -> int:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)
    try:
        conn.request("POST", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()
