"""``leaklab report DIR``: re-render a report (charts, HTML, verdicts) from its recorded data."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import data, write_report


def main(argv: Sequence[str] | None = None, prog: str = "leaklab report") -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description="Re-render a report directory from its summary.json and samples.csv."
    )
    parser.add_argument("dir", type=Path, help="a directory written by leaklab run or leaklab compare")
    args = parser.parse_args(argv)
    out: Path = args.dir
    try:
        summary = json.loads((out / data.SUMMARY).read_text())
        samples = data.read_samples(out / data.SAMPLES)
    except FileNotFoundError as exc:
        print(f"{prog}: error: {exc.filename} not found: is {out} a leaklab report directory?", file=sys.stderr)
        return 2
    except (ValueError, KeyError, TypeError) as exc:
        print(f"{prog}: error: cannot read the data in {out}: {exc}", file=sys.stderr)
        return 2
    page = write_report(out, data.reanalyse(summary, samples), samples)
    for mode, m in summary["modes"].items():
        print(f"{mode}: {m['verdict']}")
    print(f"report: {page}")
    return 0
