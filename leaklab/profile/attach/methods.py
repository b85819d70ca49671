"""How memray gets into the running API: ``sys.remote_exec``, gdb or lldb, the first that works.

memray offers three ways in. ``sys.remote_exec`` needs no debugger but Python 3.14 or newer on both
sides. gdb is the usual one on Linux, yet some gdb and kernel pairs fail on CPUs with AMX before
memray's code runs (Debian 12's gdb 13.1: "Couldn't write extended state status: Bad address"); lldb
then still attaches. Debian installs lldb as ``lldb-NN`` only, while memray runs plain ``lldb``: the
environment built here puts an ``lldb`` naming the newest ``lldb-NN`` first on ``PATH``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

AUTO = "auto"
METHODS = ("sys.remote_exec", "gdb", "lldb")  # the order ``auto`` tries them in
LLDB_PACKAGE = "lldb-19"  # the lldb measured to attach on Debian 12 and 13 (make deps-attach installs it)
VERSIONED_LLDB = re.compile(r"^lldb-(\d+)$")
# What memray prints when a method is not there at all (nothing was tried on the process).
UNAVAILABLE = {
    "sys.remote_exec": ("sys.remote_exec requires", "needs Python 3.14 or newer on both sides"),
    "gdb": ("Cannot find a supported gdb", "gdb is not installed (make deps-attach)"),
    "lldb": ("Cannot find a supported lldb", f"lldb is not installed (make deps-attach installs {LLDB_PACKAGE})"),
}
# Lines of a debugger's output that are its own, not memray's script talking.
NOISE = re.compile(r'^\((gdb|lldb)\)|^\$\d+ = "|MEMRAY:|^Debugger command line:|^debugger (return code|output)')
CAUSE = re.compile(r"error|couldn't|cannot|can't|failed|denied|not permitted|bad address", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Failure:
    """One method that did not attach, and why: the debugger's own words where it spoke."""

    method: str
    cause: str
    available: bool = True

    def __str__(self) -> str:
        return f"{self.method}: {self.cause}"


def candidates(method: str) -> tuple[str, ...]:
    """The methods to try, in order, for ``--method``."""
    return METHODS if method == AUTO else (method,)


def unavailable(method: str, message: str) -> Failure | None:
    """A ``Failure`` when memray's message says ``method`` is not there at all."""
    marker, cause = UNAVAILABLE[method]
    return Failure(method, cause, available=False) if marker in message else None


def debugger_cause(verbose_output: str) -> str | None:
    """The debugger's own last error line from ``memray attach --verbose`` output, if it printed one."""
    _, found, debugger = verbose_output.partition("debugger output:")
    lines = [line.strip() for line in debugger.splitlines()] if found else []
    causes = [line for line in lines if line and not NOISE.search(line) and CAUSE.search(line)]
    causes = [line for line in causes if not line.endswith("Error in sourced command file:")] or causes
    return causes[-1].rstrip(".") if causes else None


def versioned_lldb(path: str | None = None) -> Path | None:
    """The newest ``lldb-NN`` on ``path`` (default ``$PATH``), as Debian and Ubuntu install it."""
    found: dict[int, Path] = {}
    for folder in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        with contextlib.suppress(OSError):
            for entry in Path(folder or ".").iterdir():
                match = VERSIONED_LLDB.match(entry.name)
                if match and os.access(entry, os.X_OK):
                    found.setdefault(int(match.group(1)), entry)
    return found[max(found)] if found else None


def have_debugger(path: str | None = None) -> bool:
    """Whether gdb or some lldb is on ``path``: what every method but ``sys.remote_exec`` needs."""
    return bool(shutil.which("gdb", path=path) or shutil.which("lldb", path=path) or versioned_lldb(path))


@contextlib.contextmanager
def debugger_environment() -> Iterator[dict[str, str]]:
    """``os.environ`` for memray, with ``lldb`` on ``PATH`` naming the newest ``lldb-NN`` when plain lldb is absent."""
    env = dict(os.environ)
    lldb = None if shutil.which("lldb") else versioned_lldb()
    if lldb is None:
        yield env
        return
    with tempfile.TemporaryDirectory(prefix="leaklab-lldb-") as folder:
        (Path(folder) / "lldb").symlink_to(lldb.resolve())
        env["PATH"] = folder + os.pathsep + env.get("PATH", "")
        yield env
