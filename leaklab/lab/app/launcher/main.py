"""The launcher's entry point: import the app, choose its server, open the lab's port, serve until stopped.

Exit codes: 0 once stopped (SIGTERM), ``EXIT_LAUNCH_ERROR`` after a one-line error marked with
``LAUNCH_ERROR`` (the parent prints it as it is), ``EXIT_STARTUP_FAILED`` when the server stopped
before it ever served (an ASGI lifespan start-up that failed: the server logged why).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import platform
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from . import appload
from .appload import LaunchError, interface_of, load_app, not_an_app
from .debugport import start_debug_port
from .servers import LOOPBACK, serve

LAUNCH_ERROR = "leaklab-launcher: error: "
EXIT_LAUNCH_ERROR = 2
EXIT_STARTUP_FAILED = 3
TRACKING_PACKAGE = "leaklab_launcher_tracking"
OWN_FILES = frozenset(str(Path(__file__).with_name(name)) for name in ("debugport.py", "main.py", "servers.py"))


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="leaklab-launcher")
    parser.add_argument("--app", required=True)
    parser.add_argument("--app-dir", type=Path, required=True)
    parser.add_argument("--interface", choices=("auto", "asgi", "wsgi"), default="auto")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--debug-port", type=int, required=True)
    parser.add_argument("--tracking", type=Path, required=True, help="the folder of leaklab_api (tracking.py)")
    parser.add_argument("--frames", type=int, default=10)
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    args = parse(argv)
    app_dir = args.app_dir.resolve()
    # the app's folder first, as `uvicorn --app-dir` does; the launcher itself is on no path at all
    sys.path[:] = [str(app_dir), *(p for p in sys.path if p not in ("", str(app_dir)))]
    try:
        tracking = _load_tracking(args.tracking)
        tracker = tracking.AllocationTracker(
            args.frames, tracking.MemoryCgroup.find(), project=app_dir, ignored=OWN_FILES | {appload.__file__}
        )
        app = load_app(args.app, app_dir)
        interface = interface_of(app) if args.interface == "auto" else args.interface
        if interface is None or not callable(app):
            raise LaunchError(not_an_app(args.app, app))
        server = serve(app, interface, args.port, sys.executable)
    except LaunchError as exc:
        print(LAUNCH_ERROR + str(exc), file=sys.stderr, flush=True)
        return EXIT_LAUNCH_ERROR
    facts = {
        "app": args.app,
        "interface": interface,
        "server": server.name,
        "python": f"{sys.executable} ({platform.python_version()})",
        "pid": os.getpid(),
    }
    try:
        start_debug_port(args.debug_port, tracker, lambda: {"serving": True, **facts} if server.serving() else None)
    except OSError as exc:
        print(f"{LAUNCH_ERROR}cannot listen on {LOOPBACK}:{args.debug_port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_LAUNCH_ERROR
    print(
        f"leaklab-launcher: serving {args.app} ({interface.upper()}) with {server.name} on {LOOPBACK}:{args.port}, "
        f"allocation sites on {LOOPBACK}:{args.debug_port} (pid {os.getpid()})",
        file=sys.stderr,
        flush=True,
    )
    server.run()
    return 0 if server.serving() else EXIT_STARTUP_FAILED


def _load_tracking(folder: Path) -> Any:
    """``leaklab_api``'s standard-library modules (tracking, allocations, cgroup), under a private name."""
    spec = importlib.util.spec_from_file_location(
        TRACKING_PACKAGE, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    if spec is None or spec.loader is None:
        raise LaunchError(f"cannot load the lab's tracking code from {folder}")
    package: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[TRACKING_PACKAGE] = package
    spec.loader.exec_module(package)
    return importlib.import_module(f"{TRACKING_PACKAGE}.tracking")
