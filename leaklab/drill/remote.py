"""``leaklab drill answer WHERE CLASS`` and ``leaklab drill hint``: talk to the drill running elsewhere."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import mailbox


def remote(command: str, args: Sequence[str], prog: str, reports: Path) -> int:
    """``drill answer WHERE CLASS`` / ``drill hint``: talk to the drill running in another terminal."""
    parser = argparse.ArgumentParser(
        prog=f"{prog} {command}",
        description=f"send a{'n answer' if command == 'answer' else ' hint request'} to the running drill",
    )
    if command == "answer":
        parser.add_argument("answer", nargs="+", help="WHERE CLASS, e.g. scenarios/memoize.py:42 python")
    parser.add_argument("--dir", type=Path, help="the drill's directory (default: the newest running drill)")
    options = parser.parse_args(args)
    try:
        out = mailbox.find_drill(reports, options.dir)
        message = {"kind": command, "text": " ".join(getattr(options, "answer", []))}
        print(mailbox.send(out, message)["reply"])
    except mailbox.NoDrill as exc:
        print(f"{prog} {command}: error: {exc}", file=sys.stderr)
        return 1
    return 0
