"""``leaklab compare``: several modes one after another under identical load, one report side by side."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ..args import choice_list
from ..procs import MissingBinary
from .catalogue import SCENARIOS, catalogue_runs
from .options import MODES, add_lab_options
from .run import api_targets, check_binaries, launch_targets

parse_modes = choice_list(MODES, "mode")
_parse_scenarios = choice_list(SCENARIOS, "scenario")


def parse_scenarios(text: str) -> list[str]:
    """``all`` or a comma-separated list of catalogue scenarios."""
    if text.strip() == "all":
        return list(SCENARIOS)
    try:
        return _parse_scenarios(text)
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{exc}, or all") from None


def main(argv: Sequence[str] | None = None, prog: str = "leaklab compare") -> int:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run several cache modes under the same load and memory limit; write one report comparing them.",
    )
    parser.add_argument(
        "--modes", type=parse_modes, help=f"comma-separated (default {','.join(MODES)}; redis only if installed)"
    )
    parser.add_argument(
        "--scenarios",
        type=parse_scenarios,
        help="the leak catalogue instead: 'all' or comma-separated scenarios, each run leaky then fixed "
        f"({', '.join(SCENARIOS)})",
    )
    add_lab_options(parser)
    args = parser.parse_args(argv)
    if args.scenarios:
        if args.modes:
            parser.error("--modes and --scenarios are alternatives: give one")
        return launch_targets(api_targets(catalogue_runs(args.scenarios), args), args, argv, prog, out_name="catalogue")
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
    return launch_targets(api_targets(modes, args), args, argv, prog, out_name="compare", skipped=skipped)
