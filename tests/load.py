"""Background HTTP load for tests: requests in threads, every status and X-Cache header recorded."""

from __future__ import annotations

import http.client
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType

from leaklab.procs import LOOPBACK


@dataclass
class Outcome:
    status: int  # 0 = no answer (connection refused, reset or timed out)
    cache: str
    at_s: float
    body_bytes: int = 0


@dataclass
class BackgroundLoad:
    """``threads`` keep-alive clients asking ``/data?key=k<i % key_space>`` (or always ``path``: ``/data`` gets a
    fresh key per request) until ``stop()``, the end of a ``with`` block, or ``max_requests`` in all."""

    port: int
    key_space: int = 50
    threads: int = 2
    timeout_s: float = 10.0
    path: str | None = None
    pause_s: float = 0.0  # between one client's requests
    max_requests: int | None = None  # the load stops by itself even if the test forgets to
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._workers = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(self.threads)]
        for worker in self._workers:
            worker.start()

    def __enter__(self) -> BackgroundLoad:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def _run(self, offset: int) -> None:
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout_s)
        i = offset
        while not self._stop.is_set() and (self.max_requests is None or len(self.outcomes) < self.max_requests):
            i += self.threads
            try:
                conn.request("GET", self.path or f"/data?key=k{i % self.key_space}")
                response = conn.getresponse()
                body = response.read()
                outcome = Outcome(response.status, response.getheader("x-cache", ""), self.elapsed(), len(body))
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout_s)
                outcome = Outcome(0, "", self.elapsed())
                time.sleep(0.01)
            self.outcomes.append(outcome)
            self._stop.wait(self.pause_s)
        conn.close()

    def elapsed(self) -> float:
        return time.monotonic() - self._started

    def wait_for(self, count: int, timeout_s: float = 20.0) -> None:
        """Until ``count`` more requests were answered."""
        target = len(self.outcomes) + count
        deadline = time.monotonic() + timeout_s
        while len(self.outcomes) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.outcomes) >= target, f"only {len(self.outcomes)} of {target} requests in {timeout_s}s"

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for worker in self._workers:
            worker.join(self.timeout_s + 5)
        return self.outcomes

    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != 200]
