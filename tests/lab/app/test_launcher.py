"""The launcher: your app served in your own Python, the lab's allocation sites on a second port.

Real processes, no load: the launcher on each example, in leaklab's Python and in a virtualenv that has
nothing but Python.
"""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from leaklab.procs import LOOPBACK, http_get

from ..conftest import EXAMPLES, line_of
from .conftest import Launch


def _post(port: int, path: str) -> int:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
    try:
        conn.request("POST", path)
        return conn.getresponse().status
    finally:
        conn.close()


def _sites_after(port: int, debug_port: int, path: str, requests: int) -> dict[str, Any]:
    assert _post(debug_port, "/debug/memory/start") == 200
    for n in range(requests):
        assert http_get(port, path.format(n=n), 10)[0] == 200
    status, _, body = http_get(debug_port, "/debug/memory?limit=5", 30)
    assert status == 200
    assert _post(debug_port, "/debug/memory/stop") == 200
    memory: dict[str, Any] = json.loads(body)
    return memory


def test_a_plain_wsgi_app_runs_in_a_bare_virtualenv_on_the_standard_librarys_server(
    launch: Launch, bare_python: Any
) -> None:
    app_dir = EXAMPLES / "wsgi_expiring_sessions"
    server = launch("app:app", app_dir, python=bare_python)
    assert server.facts["interface"] == "wsgi"
    assert server.facts["server"].startswith("wsgiref")
    assert server.facts["python"].startswith(str(bare_python))
    memory = _sites_after(server.port, server.debug_port, "/sessions/s{n}", 60)
    top = memory["sites"][0]
    # named in the app's own terms: its file relative to --app-dir
    assert top["site"] == f"app.py:{line_of(app_dir / 'app.py', 'for n in range(CART_LINES)')}", memory["sites"]
    assert memory["traced_growth_bytes"] >= 60 * 128 * 40  # 60 sessions of 128 lines, each line a string


def test_the_app_keeps_every_route_the_lab_answers_on_its_own_port(launch: Launch) -> None:
    server = launch("app:app", EXAMPLES / "fastapi_gc_cycles")
    assert http_get(server.port, "/debug/memory")[0] == 404  # the app's own answer: no such route of its
    assert http_get(server.port, "/healthz")[0] == 404
    assert http_get(server.debug_port, "/orders/x")[0] == 404  # and the lab's port serves none of the app's
    assert http_get(server.port, "/orders/x")[0] == 200


@pytest.mark.parametrize(
    ("example", "interface", "server_name", "allocates", "caller"),
    [
        ("fastapi_gc_cycles", "asgi", "uvicorn", 'self.text = f"{label}: "', None),
        ("flask_order_loggers", "wsgi", "werkzeug", None, 'log.info("order %s: priced'),
    ],
)
def test_each_framework_is_served_and_its_leaking_line_named_in_its_files(
    launch: Launch, example: str, interface: str, server_name: str, allocates: str | None, caller: str | None
) -> None:
    app_dir = EXAMPLES / example
    server = launch("app:app", app_dir)
    assert (server.facts["interface"], server.facts["server"].split()[0]) == (interface, server_name)
    top = _sites_after(server.port, server.debug_port, "/orders/o{n}", 150)["sites"][0]
    if allocates is not None:
        assert top["site"] == f"app.py:{line_of(app_dir / 'app.py', allocates)}", top
    if caller is not None:  # allocated inside the standard library: named by the line of the app that called it
        assert top["site"].startswith("stdlib/logging/"), top
        assert top["caller"].startswith(f"app.py:{line_of(app_dir / 'app.py', caller)} log.info("), top


def test_an_explicit_interface_serves_what_auto_cannot_tell(launch: Launch, tmp_path: Any) -> None:
    (tmp_path / "wrapped.py").write_text(
        "def app(*args):\n"
        "    environ, start_response = args\n"
        "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
        "    return [b'wrapped']\n"
    )
    server = launch("wrapped:app", tmp_path, interface="wsgi")
    assert http_get(server.port, "/")[2] == b"wrapped"
