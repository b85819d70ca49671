"""Command line of the API service: flags override ``LEAKLAB_*`` variables; one uvicorn process."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from typing import Any

from .settings import CacheMode, ScenarioName, Settings, SettingsError, load_settings


def build_parser(prog: str = "leaklab api") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the leaklab API (one uvicorn process). Flags override LEAKLAB_* variables.",
    )
    parser.add_argument(
        "--mode", dest="cache_mode", choices=[m.value for m in CacheMode], help="cache mode (LEAKLAB_CACHE_MODE)"
    )
    parser.add_argument(
        "--scenario",
        choices=[s.value for s in ScenarioName],
        help="which leak runs: cache (the story, default) or a catalogue scenario (LEAKLAB_SCENARIO)",
    )
    parser.add_argument(
        "--fixed",
        dest="scenario_fixed",
        action="store_true",
        default=None,
        help="run the catalogue scenario with its fix applied (LEAKLAB_SCENARIO_FIXED)",
    )
    parser.add_argument(
        "--hide-scenario",
        action="store_true",
        default=None,
        help="drill mode: metrics, /healthz and logs say 'hidden' for the scenario and mode (LEAKLAB_HIDE_SCENARIO)",
    )
    parser.add_argument("--host", help="bind address (LEAKLAB_HOST, default 127.0.0.1)")
    parser.add_argument("--port", help="port (LEAKLAB_PORT, default 8000)")
    parser.add_argument("--lru-max-entries", help="LRU bound (LEAKLAB_LRU_MAX_ENTRIES, default 50)")
    parser.add_argument("--payload-items", help='"xxxx" items per payload (LEAKLAB_PAYLOAD_ITEMS, default 10000)')
    parser.add_argument(
        "--origin-latency-ms", help="simulated database read time (LEAKLAB_ORIGIN_LATENCY_MS, default 2)"
    )
    parser.add_argument("--redis-url", help="Redis URL for redis mode (LEAKLAB_REDIS_URL)")
    parser.add_argument(
        "--tracemalloc", action="store_true", default=None, help="trace allocations from start-up (LEAKLAB_TRACEMALLOC)"
    )
    parser.add_argument("--debug", action="store_true", default=None, help="enable /debug/* (LEAKLAB_DEBUG)")
    parser.add_argument(
        "--access-log", action="store_true", default=None, help="log every request (LEAKLAB_ACCESS_LOG)"
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab api") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        settings = load_settings(**vars(args))
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"{prog}: error: {line}", file=sys.stderr)
        return 2

    if problem := cannot_listen(settings.host, settings.port):
        print(
            f"{prog}: error: LEAKLAB_HOST/LEAKLAB_PORT: cannot listen on {settings.host}:{settings.port}: {problem}",
            file=sys.stderr,
        )
        return 2

    import uvicorn

    from .app import create_app

    print(
        f"leaklab api: mode={settings.public_mode}{_scenario_words(settings)} on http://{settings.host}:{settings.port}"
        + (" (debug endpoints on)" if settings.debug_enabled else ""),
        file=sys.stderr,
        flush=True,
    )
    uvicorn.run(create_app(settings), **uvicorn_options(settings))
    return 0


def _scenario_words(settings: Settings) -> str:
    if settings.hide_scenario:
        return " scenario=hidden (a drill)"
    if settings.scenario is ScenarioName.CACHE:
        return ""
    return f" scenario={settings.scenario.value}" + (" (fixed)" if settings.scenario_fixed else " (leaky)")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the API (the benchmark's ceilings run under exactly these too)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "access_log": settings.access_log,
        "log_level": "warning",
        "loop": "auto",  # uvloop when installed (uvicorn[standard])
        "http": "auto",  # httptools when installed
        "server_header": False,
    }


def cannot_listen(host: str, port: int) -> str | None:
    """Why uvicorn could not bind ``host:port`` (unknown host, address not here, port taken), or ``None``.

    uvicorn reports these as a log line and exit code 1 or 3; checking first names the setting.
    The socket is closed before uvicorn binds, with SO_REUSEADDR as uvicorn sets it.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        return f"cannot resolve the host ({exc})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None
