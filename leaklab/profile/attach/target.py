"""Which process to attach to, and why attaching to it cannot work, in one line each.

memray gets into the target with ``sys.remote_exec`` (Python 3.14+) or a debugger (gdb or lldb)
through ptrace, and then imports itself inside it: so the target must be a Python process that can
import the same memray, a way in must exist (methods.py), and the kernel must allow this user to trace
that process.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

from .methods import LLDB_PACKAGE, have_debugger

INSTEAD = "Instead run `leaklab profile`, which restarts the API under memray."
PTRACE_SCOPE = Path("/proc/sys/kernel/yama/ptrace_scope")


class AttachRefused(RuntimeError):
    """Attaching cannot work; ``str()`` is one line: why, and what to do instead."""

    def __init__(self, why: str) -> None:
        super().__init__(f"{why}. {INSTEAD}")


@dataclass(frozen=True, slots=True)
class Target:
    """The process to attach to and, when it listens on one, its loopback port."""

    pid: int
    port: int | None


def find_target(pid: int | None, port: int | None) -> Target:
    """The API process by ``pid``, or by the ``port`` it listens on; ``AttachRefused`` if there is none."""
    if pid is not None:
        if not psutil.pid_exists(pid):
            raise AttachRefused(f"no process has PID {pid} (is the API running? `make api` starts one)")
        return Target(pid, port if port is not None else _listening_port(pid))
    assert port is not None
    return Target(_pid_listening_on(port), port)


def _listening_port(pid: int) -> int | None:
    try:
        sockets = psutil.Process(pid).net_connections(kind="tcp")
    except (psutil.Error, OSError):
        return None
    ports = sorted(c.laddr.port for c in sockets if c.status == psutil.CONN_LISTEN and c.laddr)
    return ports[0] if ports else None


def _pid_listening_on(port: int) -> int:
    listening = False
    for conn in psutil.net_connections(kind="tcp"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            listening = True
            if conn.pid is not None:
                return int(conn.pid)
    if listening:
        raise AttachRefused(
            f"port {port} is open but its process is not visible from here (another user's, or a container's: "
            "attach inside the container, see `make lab-attach`)"
        )
    raise AttachRefused(f"nothing listens on port {port} (is the API running? `make api` starts one)")


def check_can_attach(target: Target) -> None:
    """Refuse early what would make memray's debugger fail: no debugger, ptrace forbidden, not Python."""
    if not hasattr(sys, "remote_exec") and not have_debugger():
        raise AttachRefused(
            "memray attach needs a debugger on this Python and neither gdb nor lldb is installed "
            f"(make deps-attach, or apt-get install gdb {LLDB_PACKAGE})"
        )
    scope = _ptrace_scope()
    if scope == 3:
        raise AttachRefused("kernel.yama.ptrace_scope is 3: this kernel lets no process be traced until reboot")
    try:
        name = Path(psutil.Process(target.pid).exe()).name
    except psutil.AccessDenied:
        raise AttachRefused(f"PID {target.pid} belongs to another user: attach as that user or as root") from None
    except (psutil.Error, OSError):
        return  # let memray try and explain
    if "python" not in name.lower():
        raise AttachRefused(f"PID {target.pid} runs {name}, not Python: memray attaches only to Python processes")


def not_the_debugger(output: str) -> bool:
    """Whether memray failed for a reason no other way in would change (the process, the user, the kernel)."""
    return _known_cause(Target(0, None), " ".join(output.split())) is not None


def explain_failure(target: Target, output: str) -> str:
    """Why ``memray attach`` failed, in one line, from what it printed."""
    text = " ".join(output.split())
    known = _known_cause(target, text)
    if known is not None:
        return known
    last = text.rsplit(". ", 1)[-1] if text else "memray attach failed without a message"
    return f"memray could not attach to PID {target.pid}: {last.rstrip('.')}"


def _known_cause(target: Target, text: str) -> str | None:
    if "does not exist" in text:
        return f"PID {target.pid} exited before memray could attach"
    if "different user" in text:
        return f"PID {target.pid} belongs to another user: attach as that user or as root"
    if "permission to trace" in text or "ptrace" in text.lower():
        scope = _ptrace_scope()
        why = f"the kernel refused to let this user trace PID {target.pid} (ptrace"
        why += f"; kernel.yama.ptrace_scope={scope}" if scope else ""
        why += "): run as root, or in a container add the SYS_PTRACE capability (`make lab-attach` does)"
        return why
    if "Python 3.7" in text:
        return f"PID {target.pid} is not a Python process memray can attach to"
    if "No module named 'memray'" in text or "memray shared library" in text:
        return (
            f"the Python running PID {target.pid} cannot import memray: "
            "install memray into its environment (Compose: make lab-attach)"
        )
    return None


def _ptrace_scope() -> int | None:
    try:
        return int(PTRACE_SCOPE.read_text().strip())
    except (OSError, ValueError):
        return None
