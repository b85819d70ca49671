"""Where ``memray attach`` runs: here, or inside the Compose lab's API container.

memray attaches from inside the target's own PID and mount namespaces (gdb traces the process; the
process itself writes the capture file), so for the Compose lab the commands run in the API container
through ``docker compose exec`` and the capture is copied out with ``docker compose cp``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from .methods import debugger_environment

COMPOSE_FILES = ("compose.yaml", "compose.attach.yaml")
IN_CONTAINER_CAPTURE = "/tmp/leaklab-attach.bin"
CONTAINER_API_PID = 1  # the image's CMD is the API itself, exec form, no init


class LocalRunner:
    """memray from this interpreter, on a process of this machine."""

    def memray(self, *args: str) -> list[str]:
        return self.python("-m", "memray", *args)

    def python(self, *args: str) -> list[str]:
        """``python ARGS`` where the target runs: ``python("-c", CODE)``."""
        return [sys.executable, *args]

    def environment(self) -> contextlib.AbstractContextManager[dict[str, str]]:
        """Where memray finds its debugger: ``PATH``, with Debian's versioned lldb as plain ``lldb``."""
        return debugger_environment()

    def capture_path(self, local: Path) -> str:
        return str(local.resolve())

    def fetch(self, remote: str, local: Path) -> None:
        """The target wrote the capture where it lives already."""


class ComposeRunner:
    """memray inside the ``api`` service of the Compose lab started with ``compose.attach.yaml``."""

    def __init__(self, project_dir: Path, compose: Sequence[str] = ("docker", "compose")) -> None:
        if shutil.which(compose[0]) is None:
            raise FileNotFoundError(f"{compose[0]} is not installed: the Compose lab needs Docker with Compose v2")
        self.base = [*compose, "--project-directory", str(project_dir)]
        for name in COMPOSE_FILES:
            self.base += ["-f", str(project_dir / name)]

    def memray(self, *args: str) -> list[str]:
        # root inside the container: the capability SYS_PTRACE only takes effect for root
        return self.python("-m", "memray", *args)

    def python(self, *args: str) -> list[str]:
        return [*self.base, "exec", "-T", "--user", "0", "api", "python", *args]

    @contextlib.contextmanager
    def environment(self) -> Iterator[dict[str, str]]:
        """docker's environment; inside, the image's attach stage has gdb and ``lldb`` on ``PATH``."""
        yield dict(os.environ)

    def capture_path(self, local: Path) -> str:
        return IN_CONTAINER_CAPTURE

    def fetch(self, remote: str, local: Path) -> None:
        done = subprocess.run([*self.base, "cp", f"api:{remote}", str(local)], capture_output=True, text=True)
        if done.returncode != 0:
            raise OSError(f"could not copy the capture out of the api container: {done.stderr.strip()}")


Runner = LocalRunner | ComposeRunner
