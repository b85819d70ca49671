"""Files written whole: a file is either the previous version or the whole new one.

A run interrupted while writing, or a filesystem that fills up, must not leave a half-written
``summary.json`` that ``leaklab report`` then cannot read: each file is written beside its final name
and moved over it with ``os.replace`` (atomic on POSIX) only once it is complete. The same goes for a
generated section of a hand-written page (BENCHMARKS.md, RELIABILITY.md): ``replace_section``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def atomic_write(path: Path, write: Callable[[IO[Any]], object], *, binary: bool = False) -> None:
    """Call ``write(f)`` on a temporary file next to ``path``, then move it over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        f: IO[Any]
        with tmp.open("wb") if binary else tmp.open("w", newline="") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda f: f.write(text))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data), binary=True)


def replace_section(path: Path, section: str, begin: str, end: str, new_page: str) -> None:
    """Put ``section`` (from its ``begin`` marker to its ``end`` marker) in place of the one ``path`` holds,
    keeping the hand-written text around it; append it when there is none (to ``new_page`` when there is no
    file yet)."""
    text = path.read_text() if path.exists() else new_page
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section.rstrip("\n") + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section
    atomic_write_text(path, text)
