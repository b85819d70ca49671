"""Your own service as the lab's target: your ASGI/WSGI app through the launcher, or any command serving HTTP.

Both get the same load: your ``--locustfile`` (every user class in it), or ``locustfiles/paths.py``'s
users GETting each ``--path``. An app is seen as the lab's API is (its RSS, the python-objects or
native-memory class, the lines that grew, named in your files); a command is judged on the resident
memory of its process tree alone, and the report says what that cannot see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ...procs import free_port
from ..load import PROJECT, LoadOptions
from ..target import Server, Target
from .processes import AppServer, CmdServer, tree_rss

PATHS_LOCUSTFILE = PROJECT / "locustfiles" / "paths.py"
CMD_CANNOT_SEE = (
    "A command is judged on the resident memory of its process tree alone: the lab cannot see where that "
    "memory goes (no allocation sites, no python-objects-or-native-memory class). For a Python app, "
    "`--app MODULE:ATTR` names the line; `leaklab attach --pid PID` profiles a running Python process."
)


class OwnTarget(Target):
    """What both kinds share: the folder they run in, the port, and the load."""

    own = True

    def __init__(
        self, name: str, app_dir: Path, port: int | None, paths: Sequence[str], locustfile: Path | None
    ) -> None:
        self.name = name
        self.app_dir = app_dir
        self.port = port
        self.paths = list(paths) or ["/"]
        self.locustfile = locustfile

    def load(self, load: LoadOptions) -> LoadOptions:
        if self.locustfile is not None:  # their users, their wait_time
            return replace(load, locustfile=self.locustfile, user_class="", wait_s=None, extra_args=())
        paths = tuple(arg for path in self.paths for arg in ("--get-path", path))
        return replace(load, locustfile=PATHS_LOCUSTFILE, user_class="PathsUser", extra_args=paths)

    def traffic(self) -> str:
        if self.locustfile is not None:
            return f"the user classes of {self.locustfile}"
        return "Locust users GETting " + ", ".join(self.paths)


class AppTarget(OwnTarget):
    """``MODULE:ATTR`` from ``app_dir``, served by the launcher in ``python`` (``launcher/``)."""

    def __init__(
        self,
        spec: str,
        app_dir: Path,
        python: Path,
        interface: str = "auto",
        port: int | None = None,
        paths: Sequence[str] = (),
        locustfile: Path | None = None,
    ) -> None:
        super().__init__(spec, app_dir, port, paths, locustfile)
        self.spec = spec
        self.python = python
        self.interface = interface
        self.last: AppServer | None = None

    def spawn(self, logs: Path, argv_prefix: Sequence[str], port: int | None = None) -> Server:
        port = port or self.port or free_port()
        log = logs / f"app-{self.slug}-{port}.log"
        self.last = AppServer(self.spec, self.app_dir, self.python, self.interface, log, port, argv_prefix)
        return self.last

    def describe(self) -> dict[str, Any]:
        facts = self.last.facts if self.last is not None else {}  # what the launcher said once it served
        interface = str(facts.get("interface", self.interface)).upper()
        server = facts.get("server", "?")
        python = facts.get("python", str(self.python))
        pid = f" (pid {facts['pid']})" if "pid" in facts else ""
        return {
            "kind": "app",
            "headline": f"{interface} app served by {server} in {python}{pid}; allocation sites on a second port",
            "app": self.spec,
            "app_dir": str(self.app_dir),
            "interface": interface,
            "server": server,
            "python": python,
            "traffic": self.traffic(),
            "cannot_see": None,
        }


class CmdTarget(OwnTarget):
    """Any command that serves HTTP on ``{port}``; ready once it answers (``GET health`` below 400, if given)."""

    def __init__(
        self,
        argv: Sequence[str],
        app_dir: Path,
        health: str | None = None,
        port: int | None = None,
        paths: Sequence[str] = (),
        locustfile: Path | None = None,
    ) -> None:
        super().__init__(program(argv), app_dir, port, paths, locustfile)
        self.argv = list(argv)
        self.health = health

    def spawn(self, logs: Path, argv_prefix: Sequence[str], port: int | None = None) -> Server:
        port = port or self.port or free_port()
        log = logs / f"cmd-{self.slug}-{port}.log"
        return CmdServer(self.name, self.argv, self.health, self.app_dir, log, port, argv_prefix)

    def rss(self, pid: int) -> int | None:
        return tree_rss(pid)

    def describe(self) -> dict[str, Any]:
        command = " ".join(self.argv)
        ready = f"GET {self.health} answered below 400" if self.health else "it answered HTTP"
        return {
            "kind": "cmd",
            "headline": f"`{command}`, ready once {ready}; judged on the RSS of its process tree alone",
            "cmd": command,
            "app_dir": str(self.app_dir),
            "health": self.health,
            "traffic": self.traffic(),
            "cannot_see": CMD_CANNOT_SEE,
        }


def program(argv: Sequence[str]) -> str:
    """A short name for a command: the module after ``-m``, else the program's file name."""
    if "-m" in argv[:-1]:
        return argv[argv.index("-m") + 1]
    return Path(argv[0]).name if argv else "command"
