"""Argument types shared by the ``leaklab`` commands: durations, sizes and bounded numbers.

Each raises ``argparse.ArgumentTypeError``, so argparse prints ``argument --X: <why>`` and exits 2.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence

_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """``192M``, ``1g``, ``512MiB``, ``300mb`` or plain bytes (binary units, as Docker's ``mem_limit``)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgKMG]?)(?:i?[bB])?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 192M, 1G or bytes)")
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def duration(low_s: int, high_s: int) -> Callable[[str], int]:
    """A parser of ``50s``, ``2m``, ``1m30s``, ``1h`` or plain seconds, between ``low_s`` and ``high_s``."""

    def parse(text: str) -> int:
        match = re.fullmatch(r"\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s?)?\s*", text)
        if not match or not text.strip() or not any(match.groups()):
            raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 50s, 2m or 90)")
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        total = hours * 3600 + minutes * 60 + seconds
        if not low_s <= total <= high_s:
            raise argparse.ArgumentTypeError(f"duration must be between {low_s}s and {high_s}s (got {text!r})")
        return total

    return parse


def number(kind: type[int] | type[float], low: float, high: float | None = None) -> Callable[[str], int | float]:
    """A parser of an ``int`` or ``float`` from ``low`` to ``high`` (no upper bound when ``None``)."""
    bounds = f"from {low:g} to {high:g}" if high is not None else f"{low:g} or more"
    what = "a whole number" if kind is int else "a number"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what} {bounds} (got {text!r})") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {bounds} (got {text!r})")
        return value

    return parse


def choice_list(choices: Sequence[str], what: str) -> Callable[[str], list[str]]:
    """A parser of a comma-separated subset of ``choices`` (order kept, repeats dropped)."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(unknown) or repr(text)}; choose from {', '.join(choices)} (comma-separated)"
            )
        return list(dict.fromkeys(names))

    return parse
