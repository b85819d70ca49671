"""``leaklab judge``: leaking, bounded or inconclusive, for any memory series; ``--bench`` scores the judge.

Sources: ``--csv FILE``, a leaklab run directory, or ``--prometheus URL --query Q``. One line per series
(``--json`` for JSON); exit 0 bounded, 1 leaking, 3 inconclusive, 2 bad input (the worst series decides).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from ..args import number, parse_size
from ..verdict import Context, judge
from . import output
from .csvfile import read_csv
from .inputs import BadInput, Input
from .prometheus import prom_duration, read_prometheus
from .rundir import read_run


def _duration(text: str) -> float:
    try:
        return prom_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="The lab's verdict (leaking, bounded or inconclusive) on a memory series in bytes, from a CSV "
        "file, a leaklab run directory or Prometheus. Exit 0 bounded, 1 leaking, 3 inconclusive, 2 bad input.",
    )
    parser.add_argument("run_dir", nargs="?", type=Path, help="a leaklab report directory (one verdict per mode)")
    csv = parser.add_argument_group("CSV file")
    csv.add_argument("--csv", type=Path, metavar="FILE", help="a CSV file with a header row")
    csv.add_argument("--time-col", help="seconds or ISO 8601 (default: the first column named t, time or timestamp)")
    csv.add_argument("--value-col", help="bytes (default: the first other numeric column)")
    csv.add_argument("--process-col", help="a column naming the process (PID, pod): a change is a restart")
    prom = parser.add_argument_group("Prometheus")
    prom.add_argument("--prometheus", metavar="URL", help="Prometheus' base URL, e.g. http://127.0.0.1:9090")
    prom.add_argument("--query", metavar="Q", help="PromQL giving memory in bytes: one verdict per returned series")
    prom.add_argument("--since", type=_duration, default="6h", help="how far back (default 6h; e.g. 90m, 3d)")
    prom.add_argument("--step", type=_duration, help="resolution (default 15s, coarser beyond 11,000 points)")
    parser.add_argument("--limit", type=parse_size, help="memory limit, e.g. 512M: how long until it is reached")
    parser.add_argument(
        "--tolerance-mib-per-min",
        type=number(float, 0),
        help="slower growth is not called a leak (default: the judge's)",
    )
    parser.add_argument("--json", action="store_true", help="JSON: one object, or a list for several series")
    bench = parser.add_argument_group("scoring (make verdict-bench)")
    bench.add_argument("--bench", action="store_true", help="score the judge and three baselines on the corpus")
    bench.add_argument("--markdown", type=Path, help="with --bench: update the generated section of this file")
    bench.add_argument(
        "--prefixes",
        type=number(int, 0, 100),
        default=12,
        help="with --bench: prefixes per leak for the time to a verdict",
    )
    return parser


def _check(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    sources = [
        name
        for name, given in (("RUN_DIR", args.run_dir), ("--csv", args.csv), ("--prometheus", args.prometheus))
        if given
    ]
    if args.bench:
        if sources:
            parser.error(f"--bench scores the corpus: give no source ({', '.join(sources)})")
        return
    if args.markdown:
        parser.error("--markdown goes with --bench")
    if len(sources) != 1:
        parser.error(
            "give one source: a run directory, --csv FILE or --prometheus URL --query Q"
            + (f" (got {', '.join(sources)})" if sources else "")
        )
    if args.csv is None and (given := [f for f in ("time_col", "value_col", "process_col") if getattr(args, f)]):
        parser.error(f"--{given[0].replace('_', '-')} goes with --csv")
    if args.prometheus and not args.query:
        parser.error("--prometheus needs --query")
    if args.query and not args.prometheus:
        parser.error("--query goes with --prometheus URL")


def read(args: argparse.Namespace) -> list[Input]:
    context = Context(limit_bytes=args.limit, tolerance_mib_per_min=args.tolerance_mib_per_min)
    if args.csv is not None:
        return [read_csv(args.csv, args.time_col, args.value_col, args.process_col, context)]
    if args.prometheus:
        return read_prometheus(args.prometheus, args.query, args.since, args.step, context)
    return read_run(args.run_dir, args.limit, args.tolerance_mib_per_min)


def main(argv: Sequence[str] | None = None, prog: str = "leaklab judge") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    _check(parser, args)
    if args.bench:
        from .bench import run_bench

        return run_bench(args.markdown, args.prefixes, argv or [])
    try:
        inputs = read(args)
    except BadInput as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    judged = [(item, judge(item.series, item.context)) for item in inputs]
    if args.json:
        print(json.dumps(output.document(judged), indent=2))
    else:
        width = max(len(item.name) for item in inputs)
        for item, verdict in judged:
            print(output.line(item, verdict, width))
    return output.exit_code([v for _, v in judged])
