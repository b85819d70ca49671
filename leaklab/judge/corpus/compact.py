"""``python -m leaklab.judge.corpus.compact RUN_DIR ...``: keep a recorded run in the corpus, compactly.

Each run directory's ``samples.csv`` is written to ``recorded/<its name>/samples.csv.gz`` with only the
columns ``leaklab judge`` reads (``rundir.COLUMNS``), gzipped byte for byte the same each time.
``--record`` (``make verdict-corpus``) first runs every command of ``recorded.RECORDINGS`` with
``--out reports/<recording>`` (about 30 minutes of load on the local lab), then compacts them all.
"""

from __future__ import annotations

import csv
import gzip
import io
import shlex
import subprocess
import sys
from pathlib import Path

from ..rundir import COLUMNS, samples_file
from .recorded import HERE, RECORDINGS


def compact(run_dir: Path, dest: Path) -> Path:
    """``run_dir``'s samples with only the columns the judge reads, gzipped (byte for byte the same each time)."""
    with samples_file(run_dir).open(newline="") as f:
        rows = list(csv.DictReader(f))
    out = io.StringIO()
    writer = csv.DictWriter(out, COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / "samples.csv.gz"
    path.write_bytes(gzip.compress(out.getvalue().encode(), compresslevel=9, mtime=0))
    return path


def record(reports: Path = Path("reports")) -> list[Path]:
    """Record every run of ``RECORDINGS`` anew with this lab, one after the other."""
    runs = []
    for name, command in RECORDINGS.items():
        out = reports / name
        print(f"verdict-corpus: {command} --out {out}", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "leaklab", *shlex.split(command)[1:], "--out", str(out)], check=True)
        runs.append(out)
    return runs


if __name__ == "__main__":
    args = sys.argv[1:]
    for run in record() if args == ["--record"] else [Path(arg) for arg in args]:
        print(compact(run, HERE / run.name))
