"""``leaklab bench``: run every contestant fresh, in interleaved rounds, and report medians and ratios."""

from __future__ import annotations

import argparse
import re
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from leaklab.args import choice_list, number
from leaklab.procs import ChildDied, MissingBinary, require

from . import load
from .document import document, write_json
from .markdown import update_markdown
from .results import RoundResult, summarise
from .runner import run_one
from .servers import SPECS, install_node_deps, node_available
from .table import print_table, progress_line

DEFAULT_OUT = Path("bench/out")


def memory_size(text: str) -> str:
    if not re.fullmatch(r"\d+(?:[kmg]b?)?", text.lower()):
        raise argparse.ArgumentTypeError(f"must be a size like 64mb or 1gb (got {text!r})")
    return text


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Benchmark each API mode against the story's Node.js server and two ceilings, side by side.",
    )
    parser.add_argument(
        "--servers",
        type=choice_list(list(SPECS), "server"),
        default=list(SPECS),
        help="comma-separated, default all: " + ",".join(SPECS),
    )
    parser.add_argument("--rounds", type=number(int, 1), default=3, help="rounds, servers interleaved (default 3)")
    parser.add_argument(
        "--duration", type=number(float, 0.5, 3600), default=6.0, help="seconds of timed load (default 6)"
    )
    parser.add_argument(
        "--requests", type=number(int, 1), default=10_000, help="fixed-count run for the memory columns (default 10000)"
    )
    parser.add_argument("--connections", type=number(int, 1), default=100, help="concurrent connections (default 100)")
    parser.add_argument("--threads", type=number(int, 1), default=2, help="wrk threads (default 2)")
    parser.add_argument(
        "--load-tool", choices=["auto", "wrk", "locust"], default="auto", help="default: wrk when installed"
    )
    parser.add_argument(
        "--redis-maxmemory", type=memory_size, default="64mb", help="maxmemory of redis mode's redis-server (64mb)"
    )
    parser.add_argument(
        "--payload-items",
        type=number(int, 1),
        default=10_000,
        help='"xxxx" items per payload (default 10000, as the Node.js server always sends)',
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where bench.json and logs go (bench/out)")
    parser.add_argument("--markdown", type=Path, help="update the generated section of this file (BENCHMARKS.md)")
    parser.add_argument(
        "--verdict",
        action="store_true",
        help="score the verdict on its corpus instead: leaklab judge --bench [options]",
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab bench") -> int:
    if argv is not None and "--verdict" in argv:  # the verdict bench lives with the judge (its options apply)
        from leaklab.cli import main as leaklab  # cli names the command by string, as for every command

        return leaklab(["judge", "--bench", *(a for a in argv if a != "--verdict")])
    args = build_parser(prog).parse_args(argv)
    if args.connections < args.threads:
        return _error(prog, f"--connections ({args.connections}) must be at least --threads ({args.threads})")
    tool = load.pick_tool(args.load_tool)
    notes: list[str] = []
    needed = [("wrk", "or use --load-tool locust")] if tool == "wrk" else []
    if "redis" in args.servers:
        needed.append(("redis-server", "or leave redis out with --servers"))
    for name, alternative in needed:
        try:
            require(name)
        except MissingBinary as exc:
            return _error(prog, f"{exc} ({alternative})")
    if tool == "locust":
        notes.append("wrk is not installed: load from Locust FastHttpUser, which tops out near 2k requests/s here")
    specs = [SPECS[name] for name in args.servers]
    if any(spec.kind == "node" for spec in specs):
        reason = node_available()
        if reason is None:
            try:
                install_node_deps()
            except ChildDied as exc:
                reason = str(exc)
        if reason is not None:
            specs = [spec for spec in specs if spec.kind != "node"]
            notes.append(f"Node.js servers skipped: {reason}")
            print(f"{prog}: Node.js servers skipped: {reason}", file=sys.stderr)
    if not specs:
        return _error(prog, "no server left to benchmark")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _error(prog, f"cannot create --out {args.out}: {exc.strerror}")
    log_dir = (args.out / "logs").resolve()
    log_dir.mkdir(exist_ok=True)

    results: list[RoundResult] = []
    started = time.monotonic()
    estimate_s = args.rounds * len(specs) * (args.duration + 1.5 + args.requests / 5000)
    print(
        f"{prog}: {len(specs)} servers x {args.rounds} rounds with {tool}, about {estimate_s / 60:.0f} min; "
        f"logs in {log_dir}",
        file=sys.stderr,
        flush=True,
    )
    for round_no in range(args.rounds):
        # Rotate the order each round so drift on a noisy machine hits every server alike.
        order = specs[round_no % len(specs) :] + specs[: round_no % len(specs)]
        for spec in order:
            print(f"{prog}: round {round_no + 1}/{args.rounds}: {spec.name} ...", file=sys.stderr, flush=True)
            try:
                result = run_one(spec, round_no, args, tool, log_dir)
            except (ChildDied, load.LoadError, OSError, TimeoutError) as exc:
                return _error(prog, f"{spec.name}: {exc}".splitlines()[0] + f" (logs in {log_dir})")
            results.append(result)
            print(f"{prog}:   {progress_line(result)}", file=sys.stderr, flush=True)

    summary = summarise(results, [spec.name for spec in specs], payload_items=args.payload_items)
    command = "leaklab bench " + shlex.join(list(argv if argv is not None else sys.argv[2:]))
    doc = document(args, tool, command, summary, results, notes, time.monotonic() - started)
    json_path = args.out / "bench.json"
    write_json(json_path, doc)
    print_table(doc)
    print(f"\nwrote {json_path}", file=sys.stderr)
    if args.markdown is not None:
        try:
            update_markdown(args.markdown, doc)
        except OSError as exc:
            return _error(prog, f"cannot update {args.markdown}: {exc.strerror}")
        print(f"updated {args.markdown}", file=sys.stderr)
    return 0


def _error(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2
