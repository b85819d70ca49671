"""Where the memory goes: a short tracemalloc recording of the target's allocation sites while the load runs.

The lab's API answers ``/debug/memory`` on its own port; the launcher of the user's app on a second one
(``Server.debug_port``): the same requests either way.
"""

from __future__ import annotations

import contextlib
import http.client
import json
from typing import Any

from ..procs import LOOPBACK, http_get
from ..verdict.rules import SETTLE_S
from .target import Server


class AllocRecorder:
    """Records allocation sites with tracemalloc for a short window while the load runs.

    Like the story's DevTools recording: tracing costs CPU (the API serves ~3x fewer requests at full
    speed, and every ``/metrics`` snapshot takes ~0.3 s), so it runs only for a window, then stops and
    frees its memory. A window cut short by a restart is recorded again if time is left.

    ``at_end``: record in the last seconds of the load instead, unless the process was restarted (an OOM
    kill settles the verdict; the sites are then recorded at once). When many small objects leak,
    tracing's own tables and snapshots grow as fast as the leak and are freed when it stops; the leak then
    refills that freed memory for a while and resident memory stands still, so a window early in the run
    would flatten the part the verdict judges. The lab's own leaks are large payloads that refill it in a
    second or two; a user's service may leak in small pieces.
    """

    END_MARGIN_S = 1.0  # the window ends this long before the load does (the clock starts with Locust)
    END_WINDOW_S = 5.0
    READINGS_BEFORE_S = 2.5  # judged readings (one a second) between the verdict's settle and the window

    def __init__(self, duration_s: float, at_end: bool = False) -> None:
        # after warm-up, so bounded caches are full and their filling is not mistaken for growth; and never
        # before the verdict's own settle and a few readings after it: the readings before the window are a
        # line of their own (the window cuts the judged readings in two), and a short run needs them
        self.warmup_s = max(min(5.0, duration_s * 0.2), SETTLE_S + self.READINGS_BEFORE_S)
        self.window_s = min(10.0, max(2.0, duration_s * 0.2))
        if at_end:  # tracing memory grows with every small object traced: a few seconds show the lines
            self.window_s = min(self.window_s, self.END_WINDOW_S)
        self.settle_s = max(1.0, self.window_s / 3)
        self._baselined = False
        self._baseline_at: float | None = None
        self.duration_s = duration_s
        self.at_end = at_end
        self.recording = False
        self._first_pid: int | None = None
        self._pid: int | None = None
        self._since = 0.0
        self._load_since: float | None = None
        self._done: dict[str, Any] | None = None

    def step(self, api: Server, t: float, load_running: bool) -> None:
        if self._done is not None:
            return
        if self._load_since is None:
            if not load_running:
                return
            self._load_since = t
            self._first_pid = api.pid
        if self.recording and (self._pid != api.pid or not api.alive()):
            self.recording = False  # the process that was traced is gone
        if not self.recording:
            end = self._load_since + self.duration_s
            time_left = t >= self._load_since + self.warmup_s and t + self.window_s + 1 < end
            if self.at_end and api.pid == self._first_pid:
                time_left = t >= self.duration_s - self.window_s - self.END_MARGIN_S
            if time_left and api.alive() and _post(api.debug_port, "/debug/memory/start") == 200:
                self.recording, self._pid, self._since = True, api.pid, t
                self._baselined, self._baseline_at = False, None
            return
        if not self._baselined and t - self._since >= self.settle_s:
            # objects allocated before tracing started are untraced: until bounded structures (the LRU)
            # have turned over once, replacing them looks like traced growth. Count growth from here.
            self._baselined = _post(api.debug_port, "/debug/memory/baseline") == 200
            self._baseline_at = t
        if t - self._since >= self.window_s:
            self._done = self._fetch(api, t)
            _post(api.debug_port, "/debug/memory/stop")
            self.recording = False

    def _fetch(self, api: Server, t: float) -> dict[str, Any] | None:
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
            if api.debug_port is None:
                return None
            status, _, body = http_get(api.debug_port, "/debug/memory?limit=10", timeout_s=10)
            if status == 200:
                data: dict[str, Any] = json.loads(body)
                since = self._baseline_at if self._baseline_at is not None else self._since
                data.update({"from_s": round(since, 1), "to_s": round(t, 1)})
                return data
        return None

    @property
    def done(self) -> dict[str, Any] | None:
        """The recording, once its window has ended (``None`` before)."""
        return self._done

    def result(self, api: Server) -> dict[str, Any] | None:
        if self._done is None and self.recording and api.alive():
            self._done = self._fetch(api, self._since + self.window_s)
        return self._done


def _post(port: int | None, path: str, timeout_s: float = 5.0) -> int:
    if port is None:
        return 0
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
