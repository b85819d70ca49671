"""The flags that name your own service and its load, each checked before anything starts.

A mistake costs one line and exit 2 (``TargetError``), never a half-started run: an app spec that is not
``MODULE:ATTR``, a folder or interpreter that is not there, a command without ``{port}``, a port in use,
a locustfile that does not load or defines no user class. What only the app itself can tell (an import
that fails, an object that is not an app, a crash at start-up) the launcher says in its own line.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import psutil

from ...args import number, shown
from ...procs import LOOPBACK
from .processes import python_version
from .target import AppTarget, CmdTarget, OwnTarget

INTERFACES = ("auto", "asgi", "wsgi")
# flags that mean nothing for the lab's own API, by their argparse dest
OWN_ONLY = {"app_dir": "--app-dir", "python": "--python", "health": "--health", "paths": "--path", "port": "--port"}
MIN_PYTHON = (3, 10)
_SPEC = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_TRACEBACK_FILE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


class TargetError(ValueError):
    """The service cannot be run as asked; ``str()`` is one line naming the flag."""


def app_spec(text: str) -> str:
    if not _SPEC.fullmatch(text):
        raise argparse.ArgumentTypeError(f"must be MODULE:ATTR, e.g. main:app or shop.api:app (got {shown(text)})")
    return text


def command(text: str) -> list[str]:
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a command line: {exc} (got {shown(text)})") from None
    if not any("{port}" in arg for arg in argv):
        raise argparse.ArgumentTypeError(
            "must say where the port goes with {port}, e.g. 'gunicorn -b 127.0.0.1:{port} app:app' "
            f"(got {shown(text)})"
        )
    return argv


def url_path(text: str) -> str:
    if not text.startswith("/") or any(c.isspace() for c in text) or not text.isprintable():
        raise argparse.ArgumentTypeError(f"must be a path starting with /, e.g. /orders/{{uuid}} (got {shown(text)})")
    return text


def add_target_options(parser: argparse.ArgumentParser) -> None:
    own = parser.add_argument_group("your own service (instead of --mode/--scenario; docs/your-service.md)")
    which = own.add_mutually_exclusive_group()
    which.add_argument(
        "--app", type=app_spec, metavar="MODULE:ATTR", help="your ASGI or WSGI app, served by the lab's launcher"
    )
    which.add_argument(
        "--cmd",
        type=command,
        metavar="'COMMAND {port}'",
        help="any command serving HTTP on {port} (also in $PORT), e.g. gunicorn; judged on RSS alone",
    )
    own.add_argument("--app-dir", type=Path, metavar="DIR", help="where your code is (on sys.path; default: here)")
    own.add_argument("--interface", choices=INTERFACES, default="auto", help="--app: ASGI or WSGI (default auto)")
    own.add_argument(
        "--python", type=Path, metavar="PATH", help="--app: your interpreter (default DIR/.venv/bin/python, else ours)"
    )
    own.add_argument(
        "--health",
        type=url_path,
        metavar="PATH",
        help="--cmd: ready once GET PATH answers below 400 (default: any answer to GET /)",
    )
    own.add_argument(
        "--path",
        dest="paths",
        action="append",
        type=url_path,
        default=[],
        metavar="PATH",
        help="the default load GETs it (repeatable; default /); {uuid}: a fresh uuid4, {n}: a counter",
    )
    own.add_argument("--port", type=number(int, 1, 65535), help="the port to serve on (default: a free one)")


def misplaced(args: argparse.Namespace) -> str | None:
    """The first flag given that only means something with ``--app``/``--cmd``, as typed."""
    for dest, flag in OWN_ONLY.items():
        if getattr(args, dest):
            return flag
    if args.interface != "auto":
        return "--interface"
    return None


def own_target(args: argparse.Namespace) -> OwnTarget:
    """The target ``--app``/``--cmd`` name, every flag checked (``TargetError`` with one line otherwise)."""
    app_dir = (args.app_dir or Path.cwd()).resolve()
    if not app_dir.is_dir():
        raise TargetError(f"--app-dir {args.app_dir}: not a directory")
    if args.port is not None:
        check_port_free(args.port)
    locustfile = check_locustfile(args.locustfile) if args.locustfile is not None else None
    if args.cmd:
        if args.python or args.interface != "auto":
            raise TargetError("--python and --interface are for --app: with --cmd, the command says how it runs")
        check_program(args.cmd[0], app_dir)
        return CmdTarget(args.cmd, app_dir, args.health, args.port, args.paths, locustfile)
    python = interpreter(args.python, app_dir)
    return AppTarget(args.app, app_dir, python, args.interface, args.port, args.paths, locustfile)


def interpreter(given: Path | None, app_dir: Path) -> Path:
    """``--python``, else a ``.venv`` in the app's folder, else the Python running leaklab; checked to run."""
    venv = app_dir / ".venv" / "bin" / "python"
    python = given if given is not None else venv if venv.exists() else Path(sys.executable)
    flag = f"--python {given}" if given is not None else f"the interpreter {python}"
    if not python.is_file() or not os.access(python, os.X_OK):
        raise TargetError(f"{flag}: not an executable file")
    version = python_version(python)
    if version is None:
        raise TargetError(f"{flag} does not run (try: {python} --version)")
    if tuple(int(part) for part in version.split(".")[:2]) < MIN_PYTHON:
        raise TargetError(f"{flag} is Python {version}: the lab's launcher needs 3.10 or newer")
    return python.absolute()


def check_program(name: str, app_dir: Path) -> None:
    found = shutil.which(name) if "/" not in name else str(app_dir / name) if (app_dir / name).exists() else None
    if found is None or not os.access(found, os.X_OK):
        raise TargetError(f"--cmd: {name!r} was not found on PATH (nor in --app-dir {app_dir})")


def check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
            return
        except OSError:
            pass
    raise TargetError(f"--port {port} is in use{_by_whom(port)}: choose another, or leave --port out for a free one")


def _by_whom(port: int) -> str:
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return f" (by PID {conn.pid}, {psutil.Process(conn.pid).name()})"
    except (psutil.Error, OSError):
        pass
    return ""


def check_locustfile(path: Path) -> Path:
    """The locustfile, once Locust has loaded it and found a user class in it (``locust --list``)."""
    if not path.is_file():
        raise TargetError(f"--locustfile {path}: no such file")
    argv = [sys.executable, "-m", "locust", "-f", str(path), "--list"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False, cwd=path.parent)
    except subprocess.TimeoutExpired:
        raise TargetError(f"--locustfile {path}: Locust did not load it within 60s") from None
    if done.returncode != 0:
        raise TargetError(f"--locustfile {path} does not load: {_traceback_line(done.stderr, path)}")
    users = done.stdout.partition("Available Users:")[2].split()
    if not users:
        raise TargetError(
            f"--locustfile {path} defines no Locust user class (a subclass of HttpUser or FastHttpUser with a @task)"
        )
    return path.resolve()


def _traceback_line(stderr: str, path: Path) -> str:
    """The error's last line, and the line of the locustfile it came from."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    error = lines[-1].strip() if lines else "Locust failed without a message"
    for i in range(len(lines) - 1, -1, -1):
        match = _TRACEBACK_FILE.search(lines[i])
        if match and Path(match["file"]).resolve() == path.resolve():
            source = lines[i + 1].strip() if i + 1 < len(lines) else ""
            return f"{error} ({path.name}:{match['line']}: {source})"
    return error
