"""The server that runs the app in this process: whichever well-kept one the user's environment already has.

One process, no workers: tracemalloc sees the app, the memory limit and ``leaklab attach`` have one PID,
and a leak is not spread over workers or hidden by worker recycling (the lab's own API runs the same way).

- ASGI: uvicorn (what FastAPI, Starlette, Quart and Django's ASGI docs deploy with); required.
- WSGI: Werkzeug's threaded server when Werkzeug is there (every Flask environment has it), else the
  standard library's ``wsgiref`` with a thread per request, so a plain WSGI callable needs no package.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import socketserver
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .appload import ASGI, LaunchError

LOOPBACK = "127.0.0.1"


@dataclass
class Served:
    """A server bound to its port: ``run()`` blocks until it stops; ``serving()`` once it accepts requests."""

    name: str
    run: Callable[[], None]
    serving: Callable[[], bool]


def serve(app: Any, interface: str, port: int, python: str) -> Served:
    """The server for ``app`` on the loopback ``port``; ``LaunchError`` if this environment has none."""
    if interface == ASGI:
        if importlib.util.find_spec("uvicorn") is None:
            raise LaunchError(
                f"the app is ASGI and {python} has no uvicorn to serve it: install uvicorn into that environment "
                "(pip install uvicorn), or start it yourself with --cmd '... {port}' --health PATH"
            )
        return _uvicorn(app, port)
    if importlib.util.find_spec("werkzeug") is not None:
        return _werkzeug(app, port)
    return _wsgiref(app, port)


def _bind_error(port: int, exc: OSError) -> LaunchError:
    return LaunchError(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc} (is the port in use?)")


def _uvicorn(app: Any, port: int) -> Served:
    import uvicorn

    # warnings and errors only (no access log): the log is for start-up errors, and a line per request
    # would cost the app time and the log file space
    config = uvicorn.Config(
        app, host=LOOPBACK, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    return Served(f"uvicorn {uvicorn.__version__}", server.run, lambda: bool(server.started))


def _werkzeug(app: Any, port: int) -> Served:
    from werkzeug.serving import WSGIRequestHandler as WerkzeugHandler
    from werkzeug.serving import make_server as werkzeug_server

    class Quiet(WerkzeugHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """No access log (as uvicorn's above)."""

    try:
        server = werkzeug_server(LOOPBACK, port, app, threaded=True, request_handler=Quiet)
    except OSError as exc:
        raise _bind_error(port, exc) from None
    return _forever(f"werkzeug {importlib.metadata.version('werkzeug')} (threaded)", server)


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log."""


def _wsgiref(app: Any, port: int) -> Served:
    try:
        server = make_server(LOOPBACK, port, app, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)
    except OSError as exc:
        raise _bind_error(port, exc) from None
    return _forever("wsgiref (standard library, a thread per request)", server)


def _forever(name: str, server: socketserver.BaseServer) -> Served:
    started = False

    def run() -> None:
        nonlocal started
        started = True  # bound already: a connection made now waits in the backlog until the loop takes it
        server.serve_forever()

    return Served(name, run, lambda: started)
