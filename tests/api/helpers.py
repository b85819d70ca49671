"""Small request helpers for tests that talk to a real ``leaklab api`` over HTTP."""

from __future__ import annotations

import http.client
import json
from typing import Any, ClassVar

from leaklab.procs import LOOPBACK


class Client:
    """A keep-alive HTTP client for one API process (fast enough for thousands of requests).

    Every client is closed after its test by the autouse fixture in ``tests/api/conftest.py``.
    """

    opened: ClassVar[list[Client]] = []

    def __init__(self, port: int, timeout_s: float = 5.0) -> None:
        Client.opened.append(self)
        self.port = port
        self.timeout_s = timeout_s
        self.conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)

    def request(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        try:
            self.conn.request(method, path)
            response = self.conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=self.timeout_s)
            self.conn.request(method, path)
            response = self.conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path)

    def json(self, method: str, path: str) -> tuple[int, Any]:
        status, _, body = self.request(method, path)
        return status, json.loads(body)

    def hammer(self, n: int, path: str = "/data") -> list[str]:
        """``n`` requests; every one must answer 200. Returns the X-Cache headers seen."""
        seen = []
        for _ in range(n):
            status, headers, _ = self.get(path)
            assert status == 200, f"GET {path} answered {status}"
            seen.append(headers["x-cache"])
        return seen

    def close(self) -> None:
        self.conn.close()
