"""``leaklab run``: one target under load and a memory limit, then a report directory.

The target is the lab's API (``--mode M``, or ``--scenario S [--fixed]`` from the catalogue), or your own
service (``--app MODULE:ATTR`` or ``--cmd '... {port}'``, ``app/options.py``). ``leaklab compare`` and
``leaklab check`` share the options (``build_parser``) and the experiment (``experiment.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console

from ..procs import MissingBinary, require
from .app.options import TargetError, add_target_options, misplaced, own_target
from .catalogue import SCENARIOS, run_name
from .experiment import Outcome, RunError, check_mechanism, default_out, experiment, one_line
from .experiment import signals_held as signals_held  # the soak holds signals the same way
from .limits import LimitError
from .live import verdict_table
from .options import MODES, USER_CLASSES, LabOptions, add_lab_options, lab_options, settings_of
from .target import ApiTarget, Target

__all__ = ["api_targets", "build_parser", "launch_targets", "main", "select_target", "signals_held"]

Present = Callable[[Outcome], int]  # what a command prints of an experiment; returns its exit code


def check_binaries(modes: Sequence[str]) -> None:
    """Refuse a mode whose binary is missing before anything starts (``MissingBinary``)."""
    if "redis" in modes:
        require("redis-server")


def build_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The options of ``leaklab run`` (and ``leaklab check``): which target, the load, the limit."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--mode", choices=MODES, help="the lab's API in a cache mode (default leaky)")
    parser.add_argument(
        "--scenario",
        choices=SCENARIOS,
        help="a leak of the catalogue instead (docs/leaks.md); runs beside the lru cache",
    )
    parser.add_argument("--fixed", action="store_true", help="with --scenario: the scenario with its fix applied")
    add_target_options(parser)
    add_lab_options(parser)
    return parser


def select_target(args: argparse.Namespace, parser: argparse.ArgumentParser, prog: str) -> Target | int:
    """The target the options name (argparse's exit 2 for a clash), or 2 after a line saying why it cannot run."""
    if args.fixed and not args.scenario:
        parser.error("--fixed needs --scenario (for the cache modes, --mode lru or redis is the fix)")
    if args.app or args.cmd:
        if args.mode or args.scenario:
            parser.error("--app/--cmd run your own service: leave out --mode and --scenario")
        if args.api_arg or args.user_class != USER_CLASSES[0]:
            parser.error("--api-arg and --user-class are for the lab's API: your service gets --path or --locustfile")
        try:
            return own_target(args)
        except TargetError as exc:
            print(f"{prog}: error: {exc}", file=sys.stderr)
            return 2
    if (wrong := misplaced(args)) is not None:
        parser.error(f"{wrong} needs --app or --cmd")
    mode = args.mode or "leaky"
    name = run_name(args.scenario, args.fixed) if args.scenario else mode
    try:
        check_binaries([name])
    except MissingBinary as exc:
        print(f"{prog}: error: mode {mode} needs {exc}", file=sys.stderr)
        return 2
    return ApiTarget(name, lab_options(args))


def main(argv: Sequence[str] | None = None, prog: str = "leaklab run") -> int:
    parser = build_parser(
        prog,
        "Run one cache mode (or one leak of the catalogue, or your own service) under load with a real memory "
        "limit and write a report directory.",
    )
    args = parser.parse_args(argv)
    target = select_target(args, parser, prog)
    if isinstance(target, int):
        return target
    return launch_targets([target], args, argv, prog, out_name=target.slug)


def api_targets(modes: Sequence[str], args: argparse.Namespace) -> list[Target]:
    """The lab's API in each of ``modes`` (``leaklab compare``)."""
    opts = lab_options(args)
    return [ApiTarget(m, opts) for m in modes]


def launch_targets(
    targets: list[Target],
    args: argparse.Namespace,
    argv: Sequence[str] | None,
    prog: str,
    *,
    out_name: str,
    skipped: Sequence[dict[str, str]] = (),
    present: Present | None = None,
    console: Console | None = None,
) -> int:
    """Check the limit mechanism, then run ``targets``, write the report and ``present`` it (the verdicts)."""
    opts = lab_options(args)
    try:
        check_mechanism(opts)
    except LimitError as exc:
        print(f"{prog}: error: --limit-mechanism {opts.mechanism}: {one_line(exc)}", file=sys.stderr)
        return 2
    out = args.out or default_out(out_name)
    settings = settings_of(opts, [t.name for t in targets], sys.argv[1:] if argv is None else argv)
    return execute(targets, opts, out, settings, prog, skipped, present or print_verdicts, console)


def execute(
    targets: Sequence[Target],
    opts: LabOptions,
    out: Path,
    settings: dict[str, object],
    prog: str,
    skipped: Sequence[dict[str, str]],
    present: Present,
    console: Console | None = None,
) -> int:
    """Run the experiment and ``present`` it; 2 with one line when your own service never came up."""
    try:
        outcome = experiment(targets, opts, out, settings, skipped, console)
    except RunError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.code
    if (failed := never_started(targets, outcome)) is not None:
        print(f"{prog}: error: {failed}", file=sys.stderr)
        return 2
    return present(outcome)


def print_verdicts(outcome: Outcome) -> int:
    """The verdict table, notes, triage and errors; 130 when interrupted, 1 when a run failed."""
    summary, results, console = outcome.summary, outcome.results, outcome.console
    if summary["modes"]:
        console.print(verdict_table(summary["modes"]))
    for mode, m in summary["modes"].items():
        if m["verdict"] == "inconclusive":
            console.print(f"{mode}: inconclusive: {m.get('verdict_reason')}", style="yellow", markup=False)
        if m.get("triage"):
            console.print(f"{mode}: {m['triage']}", markup=False)
    for r in results:
        if r.error:
            console.print(f"[red]{r.mode}: {r.error}[/]")
    console.print(f"report: [bold]{outcome.page}[/]" + ("  (interrupted: partial data)" if outcome.interrupted else ""))
    if outcome.interrupted:
        return 130
    return 1 if any(r.error for r in results) else 0


def never_started(targets: Sequence[Target], outcome: Outcome) -> str | None:
    """Why your own service never came up (one line), so the command exits 2; None otherwise.

    The lab's own API failing to start is the lab's failure, reported like any other (exit 1).
    """
    for target, result in zip(targets, outcome.results, strict=False):
        if target.own and not result.started and not result.interrupted and result.error:
            return "; ".join(line.strip() for line in result.error.splitlines() if line.strip())
    return None
