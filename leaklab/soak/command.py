"""``leaklab soak``: each fixed mode under sustained load for a bounded time, sampled once a second.

It runs the lab's own loop (``lab.experiment.run_modes``: the API under its memory limit, Redis, Locust,
the sampler), writes the lab's report directory, then judges every mode against the pass criteria
(``criteria.py``) and, with ``--markdown``, rewrites the generated section of RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ..args import choice_list, duration, number, redis_size
from ..lab.experiment import run_modes, write_run_report
from ..lab.live import LiveDisplay
from ..lab.load import LoadOptions
from ..lab.options import LabOptions, memory_limit, settings_of
from ..procs import MissingBinary, require
from . import criteria
from .markdown import CHART, update_markdown

FIXED_MODES = ("lru", "redis")


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Soak the fixed modes under sustained load and judge them against the pass criteria.",
    )
    parser.add_argument(
        "--modes", type=choice_list(FIXED_MODES, "mode"), default=list(FIXED_MODES), help="default lru,redis"
    )
    parser.add_argument("--duration", type=duration(20, 24 * 3600), default="10m", help="per mode (default 10m)")
    parser.add_argument("--users", type=number(int, 1, 1000), default=10, help="Locust users (default 10)")
    parser.add_argument("--wait-s", type=number(float, 0, 60), default=0.1, help="mean wait between requests")
    parser.add_argument("--mem-limit", type=memory_limit, default="192M", help="API memory limit (default 192M)")
    parser.add_argument(
        "--redis-maxmemory", type=redis_size, default="64mb", help="redis-server --maxmemory (default 64mb)"
    )
    parser.add_argument("--out", type=Path, help="report directory (default reports/<time>-soak)")
    parser.add_argument("--markdown", type=Path, help="rewrite the generated section of this file (RELIABILITY.md)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab soak") -> int:
    args = build_parser(prog).parse_args(argv)
    if "redis" in args.modes:
        try:
            require("redis-server")
        except MissingBinary as exc:
            print(f"{prog}: error: mode redis needs {exc}", file=sys.stderr)
            return 2
    load = LoadOptions(args.duration, args.users, float(args.users), "StoryUser", args.wait_s)
    opts = LabOptions(load, args.mem_limit, redis_maxmemory=args.redis_maxmemory, alloc_sites=False)
    out: Path = args.out or Path("reports") / f"{time.strftime('%Y%m%d-%H%M%S')}-soak"
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"{prog}: error: cannot create the report directory {out}: {exc.strerror}", file=sys.stderr)
        return 2
    command = " ".join(["leaklab", "soak", *(sys.argv[2:] if argv is None else argv)])
    results, interrupted = run_modes(args.modes, opts, out, LiveDisplay(args.modes, opts.load.duration_s))
    settings = settings_of(opts, args.modes, [])
    settings["command"] = command
    try:
        summary, _ = write_run_report(out, results, settings, [], interrupted)
    except OSError as exc:
        print(f"{prog}: error: could not write the report in {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    verdicts = {r.mode: criteria.judge(r, out / "logs" / f"locust-{r.mode}_stats_history.csv") for r in results}
    soak = {
        "command": command,
        "duration_s_per_mode": args.duration,
        "users": args.users,
        "wait_s": args.wait_s,
        "modes": {mode: criteria.to_json(v) | _figures(summary["modes"][mode]) for mode, v in verdicts.items()},
        "versions": summary["settings"]["versions"],
        "machine": summary["settings"]["machine"],
    }
    (out / "soak.json").write_text(json.dumps(soak, indent=2) + "\n")
    _print(verdicts)
    if args.markdown is not None and not interrupted:
        chart = args.markdown.parent / CHART
        chart.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / "memory.png", chart)
        update_markdown(args.markdown, soak)
        print(f"{args.markdown}: generated section rewritten; memory chart in {chart}")
    print(f"report: {out / 'report.html'}")
    if interrupted:
        return 130
    return 0 if all(c.passed for v in verdicts.values() for c in v) and len(verdicts) == len(args.modes) else 1


def _figures(mode: dict[str, object]) -> dict[str, object]:
    keys = ("requests", "failures", "rps", "p50_ms", "p99_ms", "rss_start_mib", "rss_peak_mib", "rss_end_mib",
            "leak_rate_mib_per_min", "fit_r2", "cache_entries_end", "evictions", "redis_used_memory_peak_bytes",
            "redis_maxmemory_bytes", "oom_kills", "restarts", "duration_s")  # fmt: skip
    return {"figures": {k: mode.get(k) for k in keys}}


def _print(verdicts: dict[str, list[criteria.Criterion]]) -> None:
    for mode, checks in verdicts.items():
        passed = all(c.passed for c in checks)
        print(f"{mode}: {'PASS' if passed else 'FAIL'}")
        for c in checks:
            print(f"  {'ok  ' if c.passed else 'FAIL'} {c.rule}: {c.figure}")
