"""The lab's allocation-site protocol on a second loopback port, served by a standard-library thread.

The same requests and answers as the API's ``/debug/memory`` endpoints (``leaklab_api/debug.py``), so
the lab's ``AllocRecorder`` drives both alike; plus ``GET /healthz``, 200 once the app is being served.
The app's own port and routes are never touched: a path of the app's cannot collide with these.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .servers import LOOPBACK

NOT_TRACING = "tracemalloc is off: POST /debug/memory/start starts it"
MAX_SITES = 100


def start_debug_port(port: int, tracker: Any, health: Callable[[], dict[str, Any] | None]) -> ThreadingHTTPServer:
    """Serve on ``LOOPBACK:port`` in a daemon thread; ``health()`` is the ``/healthz`` body, None while starting."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/healthz":
                body = health()
                self._send(200 if body is not None else 503, body or {"serving": False})
            elif url.path == "/debug/memory":
                limit = _limit(parse_qs(url.query).get("limit", ["10"])[0])
                if tracker.tracing:
                    self._send(200, tracker.report(limit))
                else:
                    answer = {"tracing": False, "message": NOT_TRACING, "traced_bytes": 0, "sites": []}
                    self._send(200, {**answer, **tracker.footprint()})
            else:
                self._send(404, {"error": f"no {url.path} here: this port serves the lab, not the app"})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            if path == "/debug/memory/start":
                tracker.start()
                self._send(200, {"tracing": True, "baseline": "set"})
            elif path == "/debug/memory/baseline":
                if not tracker.tracing:
                    self._send(409, {"error": NOT_TRACING, "tracing": False})
                    return
                tracker.set_baseline()
                self._send(200, {"tracing": True, "baseline": "set"})
            elif path == "/debug/memory/stop":
                tracker.stop()
                self._send(200, {"tracing": False})
            else:
                self._send(404, {"error": f"no {path} here"})

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the log is the app's."""

    server = ThreadingHTTPServer((LOOPBACK, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="leaklab-debug-port", daemon=True).start()
    return server


def _limit(text: str) -> int:
    try:
        return max(1, min(MAX_SITES, int(text)))
    except ValueError:
        return 10
