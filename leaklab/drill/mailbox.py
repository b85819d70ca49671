"""How ``leaklab drill answer``/``hint`` in another terminal reach the drill that is running.

The drill's report directory holds ``state.json`` (the drill's PID and where to look; never the
scenario's name) and two folders: ``inbox/`` where the other terminal drops a message, and
``outbox/`` where the drill puts its reply under the same name. Files are written whole and renamed
into place, so a reader never sees half a message.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

STATE = "state.json"
REPLY_TIMEOUT_S = 60.0


class NoDrill(RuntimeError):
    """No drill is running in that directory; the message says which and what to do."""


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)


def open_box(out: Path, state: dict[str, Any]) -> None:
    """Make ``out`` a drill's mailbox: the state file and the two folders."""
    (out / "inbox").mkdir(parents=True, exist_ok=True)
    (out / "outbox").mkdir(exist_ok=True)
    write_json(out / STATE, state | {"pid": os.getpid()})


def receive(out: Path) -> list[tuple[str, dict[str, Any]]]:
    """Messages waiting in the inbox, oldest first; each is removed once read."""
    messages = []
    for path in sorted((out / "inbox").glob("*.json"), key=lambda p: p.stat().st_mtime):
        try:
            messages.append((path.stem, json.loads(path.read_text())))
        except (OSError, ValueError):
            continue  # half-written by a crashed sender: leave it
        path.unlink(missing_ok=True)
    return messages


def reply(out: Path, name: str, data: dict[str, Any]) -> None:
    write_json(out / "outbox" / f"{name}.json", data)


def find_drill(reports: Path, given: Path | None) -> Path:
    """The drill directory to talk to: ``given``, or the newest running one under ``reports``."""
    candidates = [given] if given else sorted(reports.glob(f"*/{STATE}"), key=lambda p: p.stat().st_mtime)
    for state_path in reversed([c if c.name == STATE else c / STATE for c in candidates if c]):
        if state_path.exists() and _running(state_path):
            return state_path.parent
    where = given or reports
    raise NoDrill(f"no drill is running in {where}: start one with `leaklab drill` (or `make drill`)")


def _running(state_path: Path) -> bool:
    try:
        pid = int(json.loads(state_path.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return pid != os.getpid() and psutil.pid_exists(pid) and "finished" not in json.loads(state_path.read_text())


def send(out: Path, message: dict[str, Any], timeout_s: float = REPLY_TIMEOUT_S) -> dict[str, Any]:
    """Drop ``message`` in the drill's inbox and wait for its reply."""
    name = f"{time.time():.6f}-{uuid.uuid4().hex[:8]}"
    write_json(out / "inbox" / f"{name}.json", message)
    reply_path = out / "outbox" / f"{name}.json"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if reply_path.exists():
            data: dict[str, Any] = json.loads(reply_path.read_text())
            return data
        if not _running(out / STATE):
            raise NoDrill(f"the drill in {out} stopped before it replied")
        time.sleep(0.2)
    raise NoDrill(f"the drill in {out} did not reply within {timeout_s:g}s")
