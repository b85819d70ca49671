"""Argument types shared by the ``leaklab`` commands: durations, sizes and bounded numbers.

Each raises ``argparse.ArgumentTypeError``, so argparse prints ``argument --X: <why>`` and exits 2.
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable, Sequence

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
MAX_SIZE_BYTES = 1024**5
ECHO_MAX_CHARS = 60  # a hostile value is quoted this far, so the error stays one readable line


def shown(text: str) -> str:
    """``repr(text)``, cut to ``ECHO_MAX_CHARS`` with the full length said."""
    quoted = repr(text)
    return quoted if len(quoted) <= ECHO_MAX_CHARS else f"{quoted[:ECHO_MAX_CHARS]}... ({len(text)} characters)"


def parse_size(text: str) -> int:
    """``192M``, ``1g``, ``512MiB``, ``300mb`` or plain bytes (binary units, as Docker's ``mem_limit``)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgKMG]?)(?:i?[bB])?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {shown(text)} (use e.g. 192M, 1G or bytes)")
    size = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if not math.isfinite(size) or size > MAX_SIZE_BYTES:
        raise argparse.ArgumentTypeError(f"size too large: {shown(text)} (at most 1P)")
    return int(size)


def _plain(name: str) -> str:
    """A name as typed when it reads well on one line, else quoted and cut (``shown``)."""
    return name if name.isprintable() and len(name) <= 40 else shown(name)


def redis_size(text: str) -> str:
    """A size as ``redis-server --maxmemory`` takes it (``64mb``, ``1gb``, bytes), passed on unchanged."""
    if not re.fullmatch(r"[1-9]\d{0,14}(?:[kmg]b?)?", text.lower()):
        raise argparse.ArgumentTypeError(f"must be a size like 64mb or 1gb (got {shown(text)})")
    return text


def duration(low_s: int, high_s: int) -> Callable[[str], int]:
    """A parser of ``50s``, ``2m``, ``1m30s``, ``1h`` or plain seconds, between ``low_s`` and ``high_s``."""

    def parse(text: str) -> int:
        match = re.fullmatch(r"\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*", text)
        if not match or not text.strip() or not any(match.groups()):
            raise argparse.ArgumentTypeError(f"not a duration: {shown(text)} (use e.g. 50s, 2m or 90)")
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        total = hours * 3600 + minutes * 60 + seconds
        if not low_s <= total <= high_s:
            raise argparse.ArgumentTypeError(f"duration must be between {low_s}s and {high_s}s (got {shown(text)})")
        return total

    return parse


def number(kind: type[int] | type[float], low: float, high: float | None = None) -> Callable[[str], int | float]:
    """A parser of an ``int`` or ``float`` from ``low`` to ``high`` (no upper bound when ``None``)."""
    bounds = f"from {low:g} to {high:g}" if high is not None else f"{low:g} or more"
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
            # nan compares false with every bound, and inf is no count or rate
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} {bounds} (got {shown(text)})") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {bounds} (got {shown(text)})")
        return value

    return parse


def choice_list(choices: Sequence[str], what: str) -> Callable[[str], list[str]]:
    """A parser of a comma-separated subset of ``choices`` (order kept, repeats dropped)."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(map(_plain, unknown)) or shown(text)}; "
                f"choose from {', '.join(choices)} (comma-separated)"
            )
        return list(dict.fromkeys(names))

    return parse
