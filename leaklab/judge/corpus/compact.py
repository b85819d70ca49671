"""``python -m leaklab.judge.corpus.compact RUN_DIR ...``: keep a recorded run in the corpus, compactly.

Each run directory's ``samples.csv`` is written to ``recorded/<its name>/samples.csv.gz`` with only the
columns ``leaklab judge`` reads (``rundir.COLUMNS``), gzipped byte for byte the same each time.
"""

from __future__ import annotations

import csv
import gzip
import io
import sys
from pathlib import Path

from ..rundir import COLUMNS, samples_file
from .recorded import HERE


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


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(compact(Path(arg), HERE / Path(arg).name))
