"""The processes of your own service: the launcher serving your app, or your command, as the runner holds them.

Each says in one line why it stopped before it served: the launcher's own error line (an import that
failed, an object that is not an app, a port in use), else the exit code and the last lines of its log.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psutil

import leaklab_api

from ...procs import LOOPBACK, Child, ChildDied, free_port, http_get
from .launcher.main import EXIT_STARTUP_FAILED, LAUNCH_ERROR

LAUNCHER = Path(__file__).resolve().parent / "launcher" / "__init__.py"
TRACKING = Path(leaklab_api.__file__).resolve().parent  # tracking.py, allocations.py, cgroup.py: stdlib only
START_TIMEOUT_S = 60.0
FRAMES = 10  # a library's allocation is often several calls below the line of yours that made it
LAST_LINES = 3
# Loads the launcher as a package under a private name from its file (argv[1]): run as a script, its folder
# would come first on sys.path and shadow the app's own modules. Checks the version before any newer syntax.
BOOTSTRAP = """import sys
if sys.version_info < (3, 10):
    sys.exit("leaklab-launcher: error: the launcher needs Python 3.10 or newer; this is " + sys.version.split()[0])
import importlib.util
folder = sys.argv[1].rpartition("/")[0]
spec = importlib.util.spec_from_file_location("leaklab_launcher", sys.argv[1], submodule_search_locations=[folder])
package = importlib.util.module_from_spec(spec)
sys.modules["leaklab_launcher"] = package
spec.loader.exec_module(package)
from leaklab_launcher.main import main
sys.exit(main(sys.argv[2:]))
"""


def service_env(python: Path | None = None) -> dict[str, str]:
    """Our environment without the lab's own settings; with ``python``'s virtualenv first on ``PATH``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEAKLAB_")}
    if python is not None and (python.parent.parent / "pyvenv.cfg").exists():
        env["VIRTUAL_ENV"] = str(python.parent.parent)
        env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    return env


def why_it_stopped(child: Child) -> str:
    """One line: the launcher's own error, else the exit code and the last lines of the log."""
    lines = [line.strip() for line in child.log_tail(60).splitlines() if line.strip()]
    marked = [line for line in lines if line.startswith(LAUNCH_ERROR)]
    if marked:
        return marked[-1].removeprefix(LAUNCH_ERROR)
    last = " | ".join(lines[-LAST_LINES:]) or "nothing"
    code = child.proc.returncode
    how = "failed at start-up" if code == EXIT_STARTUP_FAILED else f"exited with code {code} at start-up"
    return f"{child.name} {how}; its last log lines: {last} (log: {child.log_path})"


def _did_not_start(child: Child, what: str) -> ChildDied:
    lines = [line.strip() for line in child.log_tail(60).splitlines() if line.strip()]
    last = " | ".join(lines[-LAST_LINES:]) or "nothing"
    return ChildDied(
        f"{child.name} did not {what} within {START_TIMEOUT_S:g}s; its last log lines: {last} (log: {child.log_path})"
    )


class ServiceProcess(Child):
    """A process of the user's service: no lab ``/metrics`` of ours, and a one-line reason when it stops."""

    port: int
    metrics_port = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def died(self) -> ChildDied:
        return ChildDied(why_it_stopped(self))


class AppServer(ServiceProcess):
    """The launcher (``launcher/``) serving the app in the user's Python, its allocation sites on a second port."""

    def __init__(
        self, spec: str, app_dir: Path, python: Path, interface: str, log: Path, port: int, argv_prefix: Sequence[str]
    ) -> None:
        self.port = port
        self.debug_port = free_port()
        self.facts: dict[str, Any] = {}  # what the launcher says once it serves: interface, server, python
        argv = [
            *argv_prefix, str(python), "-c", BOOTSTRAP, str(LAUNCHER),
            "--app", spec, "--app-dir", str(app_dir), "--interface", interface,
            "--port", str(port), "--debug-port", str(self.debug_port), "--tracking", str(TRACKING),
            "--frames", str(FRAMES),
        ]  # fmt: skip
        super().__init__(spec, argv, log, service_env(python), cwd=app_dir)

    def wait_healthy(self) -> None:
        """Until the launcher says the app is being served; then ``facts`` says how (server, interface)."""
        try:
            self.wait_http(self.debug_port, "/healthz", START_TIMEOUT_S)
        except ChildDied:
            if not self.alive():
                raise
            raise _did_not_start(self, "start serving") from None
        with contextlib.suppress(OSError, http.client.HTTPException, ValueError):
            self.facts = json.loads(http_get(self.debug_port, "/healthz")[2])


class CmdServer(ServiceProcess):
    """The user's command, ``{port}`` filled in and ``PORT`` set; ready once it answers HTTP.

    Without a health path, any answer to ``GET /`` will do (a 404 too: the server is up); with one, it
    must answer below 400.
    """

    debug_port = None

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        health: str | None,
        app_dir: Path,
        log: Path,
        port: int,
        prefix: Sequence[str],
    ) -> None:
        self.port = port
        self.health = health
        argv = [*prefix, *(arg.replace("{port}", str(port)) for arg in argv)]
        super().__init__(name, argv, log, service_env() | {"PORT": str(port)}, cwd=app_dir)

    def wait_healthy(self) -> None:
        answered: list[int] = []

        def answers() -> bool:
            with contextlib.suppress(OSError, http.client.HTTPException):
                answered.append(http_get(self.port, self.health or "/", 1.0)[0])
                return self.health is None or answered[-1] < 400
            return False

        try:
            self.wait_until(answers, START_TIMEOUT_S, "answer")
        except ChildDied:
            if not self.alive():
                raise
            what = f"answer GET {self.health} on port {self.port} below 400"
            if answered:
                what += f" (it answered {answered[-1]})"
            raise _did_not_start(self, what) from None

    def stop(self, timeout_s: float = 5.0) -> int | None:
        """Stop the command, then whatever it started that outlived it (a server's workers), each by PID."""
        family = tree(self.pid)[1:]
        code = super().stop(timeout_s)
        for proc in family:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        return code


def tree(pid: int) -> list[psutil.Process]:
    """``pid`` and every process below it, or nothing if it is gone."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def tree_rss(pid: int) -> int | None:
    """The resident memory of ``pid`` and its descendants (a pre-fork server and its workers)."""
    total = None
    for proc in tree(pid):
        with contextlib.suppress(psutil.Error):
            total = (total or 0) + proc.memory_info().rss
    return total


def python_version(python: Path) -> str | None:
    """``3.11.7`` for an interpreter, when it runs (a quick check of ``--python``)."""
    try:
        done = subprocess.run(
            [str(python), "-c", "import platform; print(platform.python_version())"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None
