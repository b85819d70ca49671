"""``leaklab compare``: several modes one after another under identical load, one report side by side."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..args import choice_list
from ..procs import MissingBinary
from .options import MODES, add_lab_options
from .run import check_binaries, launch

parse_modes = choice_list(MODES, "mode")


def main(argv: Sequence[str] | None = None, prog: str = "leaklab compare") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run several cache modes under the same load and memory limit; write one report comparing them.",
    )
    parser.add_argument(
        "--modes", type=parse_modes, help=f"comma-separated (default {','.join(MODES)}; redis only if installed)"
    )
    add_lab_options(parser)
    args = parser.parse_args(argv)
    modes: list[str] = args.modes or list(MODES)
    skipped: list[dict[str, str]] = []
    try:
        check_binaries(modes)
    except MissingBinary as exc:
        if args.modes:  # asked for explicitly: refuse rather than silently skip
            print(f"{prog}: error: mode redis needs {exc}", file=sys.stderr)
            return 2
        modes.remove("redis")
        skipped.append({"mode": "redis", "reason": str(exc)})
    return launch(modes, args, argv, prog, out_name="compare", skipped=skipped)
