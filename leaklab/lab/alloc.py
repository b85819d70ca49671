"""Where the memory goes: a short tracemalloc recording of the API's allocation sites while the load runs."""

from __future__ import annotations

import contextlib
import http.client
import json
from typing import Any

from ..procs import LOOPBACK, ApiServer


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
