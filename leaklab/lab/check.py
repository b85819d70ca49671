"""``leaklab check``: the lab's experiment as a CI gate. One line; exit 0 bounded, 1 leaking, 2 could not judge.

The same run as ``leaklab run`` (same options, same experiment, same report directory), judged by the same
verdict; only what it prints differs: one line on stdout with the verdict, the rate and the top line.
``--max-growth-mib-per-min`` is the verdict's own tolerance (steady growth slower than this is not called a leak);
an OOM kill never passes.
Exit 2 (with a line on stderr) when the service could not start, and (on stdout) when the run cannot be
judged: the verdict is inconclusive, the load never reached the service, or most of it failed.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from typing import Any

from rich.console import Console

from ..args import number
from ..verdict.rules import TOLERANCE_MIB_PER_MIN
from .experiment import Outcome, default_out
from .run import build_parser, launch_targets, select_target

BOUNDED, LEAKING, UNJUDGED = 0, 1, 2
MAX_FAILED_SHARE = 0.5  # more failed requests than this: the load did not exercise the service


def verdict_line(outcome: Outcome) -> tuple[int, str]:
    """The exit code and the one line for the run's (only) target."""
    result = outcome.results[0]
    name = result.mode
    report = f"report: {outcome.page}"
    if outcome.interrupted:
        return 130, f"{name}: interrupted; {report}"
    m: dict[str, Any] = outcome.summary["modes"][name]
    if result.error:
        error = "; ".join(line.strip() for line in result.error.splitlines() if line.strip())
        return UNJUDGED, f"{name}: could not judge: {error}; {report}"
    rate, kills = m.get("leak_rate_mib_per_min"), int(m.get("oom_kills") or 0)
    slope = "–" if rate is None else f"{rate:+,.1f} MiB/min"
    if not kills and (unexercised := _not_exercised(m)) is not None:
        return UNJUDGED, f"{name}: could not judge: {unexercised}; {report}"
    fit = f" (R² {m['fit_r2']:.2f})" if m.get("fit_r2") is not None else ""
    if m["verdict"] == "leaking":
        killed = f", OOM-killed {kills}x" if kills else ""
        about = (outcome.summary.get("targets") or {}).get(name) or {}
        if about.get("kind") == "cmd":
            where = "judged on RSS alone: a --cmd shows no line (--app names it)"
        else:
            native = m.get("leak_class") == "native memory"
            top = m.get("top_line") or ("not visible to tracemalloc" if native else "–")
            where = f"{m.get('leak_class') or 'class unknown'}; top line: {top}"
        return LEAKING, f"{name}: leaking at {slope}{fit}{killed}; {where}; {report}"
    if m["verdict"] == "bounded":
        return BOUNDED, f"{name}: bounded at {slope}{fit}; {report}"
    why = m.get("verdict_reason") or "the samples say neither leaking nor bounded"
    return UNJUDGED, f"{name}: could not judge ({m['verdict']}): {why}; {report}"


def _not_exercised(m: dict[str, Any]) -> str | None:
    """Why the load cannot have exercised the service, if it cannot."""
    requests, failures = int(m.get("requests") or 0), int(m.get("failures") or 0)
    if requests == 0:
        return "no request reached the service (is it serving the --path you gave?)"
    if failures > MAX_FAILED_SHARE * requests:
        errors = (m.get("load") or {}).get("errors") or [{}]
        first = errors[0].get("error") or "?"
        return f"{failures:,} of {requests:,} requests failed (most often: {first}): check --path or --locustfile"
    return None


def check_parser(prog: str = "leaklab check") -> argparse.ArgumentParser:
    """``leaklab run``'s options, and the tolerance."""
    parser = build_parser(
        prog,
        "Run your service (or the lab's API) under load with a real memory limit, as `leaklab run` does, and "
        "print one line: exit 0 when memory stays bounded, 1 when it leaks, 2 when it could not be judged.",
    )
    parser.add_argument(
        "--max-growth-mib-per-min",
        type=number(float, 0),
        default=None,
        metavar="RATE",
        help=f"the verdict's tolerance: steady growth slower than this is not a leak (default "
        f"{TOLERANCE_MIB_PER_MIN:g}; an OOM kill always fails)",
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab check") -> int:
    parser = check_parser(prog)
    args = parser.parse_args(argv)
    if not (args.app or args.cmd or args.mode or args.scenario):
        parser.error("name what to check: --app MODULE:ATTR, --cmd '... {port}', or the lab's --mode/--scenario")
    target = select_target(args, parser, prog)
    if isinstance(target, int):
        return target
    args.out = args.out or default_out(f"check-{target.slug}")

    def present(outcome: Outcome) -> int:
        code, line = verdict_line(outcome)
        print(line, flush=True)
        return code

    quiet = Console(file=io.StringIO(), quiet=True)  # the one line is the output; the report holds the rest
    return launch_targets([target], args, argv, prog, out_name=target.slug, present=present, console=quiet)


if __name__ == "__main__":
    sys.exit(main())
