"""Recorded runs of the leak catalogue, leaky and fixed, kept compact in ``recorded/<recording>/samples.csv.gz``.

Each recording is one ``leaklab compare`` on this repo's lab (real API processes under a real memory limit,
real Locust load, a sample a second), compacted to the columns ``leaklab judge`` reads from a run
directory (``rundir.COLUMNS``). A leaky run (a catalogue scenario without its fix, or the ``leaky`` cache)
is labelled leaking from the moment its load started; a fixed one (``-fixed``, ``lru``, ``redis``) bounded.

To record them again (about 30 minutes of machine time): ``make verdict-corpus``, which runs each command
of ``RECORDINGS`` with ``--out reports/<recording>`` and compacts it (``compact.py``).
"""

from __future__ import annotations

from pathlib import Path

from ...lab.catalogue import scenario_of
from ...verdict import BOUNDED, LEAKING
from ..rundir import read_run
from .case import RECORDED, Case
from .grid import LAB

HERE = Path(__file__).resolve().parent / "recorded"
RECORDINGS = {
    "catalogue-30s": "leaklab compare --scenarios all --duration 30s",
    "redis-30s": "leaklab compare --modes redis --duration 30s",
    "catalogue-50s-5users": "leaklab compare --scenarios all --duration 50s --users 5",
    "redis-50s-5users": "leaklab compare --modes redis --duration 50s --users 5",
}
LEAKY, FIXED = "catalogue-leaky", "catalogue-fixed"


def label_of(mode: str) -> str:
    """Leaking for a leaky run, bounded for a fixed one, by how the run was made."""
    scenario = scenario_of(mode)
    if scenario is None:
        return LEAKING if mode == "leaky" else BOUNDED
    return BOUNDED if scenario[1] else LEAKING


def recorded(root: Path = HERE) -> list[Case]:
    cases = []
    for recording in RECORDINGS:
        if not (root / recording).is_dir():
            continue
        for item in read_run(root / recording):
            label = label_of(item.name)
            load = item.context.load_s
            start = load[0] if load is not None else float(item.series.t_s[0])
            cases.append(
                Case(
                    name=f"recorded/{recording}/{item.name}",
                    shape=LEAKY if label == LEAKING else FIXED,
                    label=label,
                    source=RECORDED,
                    sampling=LAB,
                    series=item.series,
                    context=item.context,
                    leak_start_s=start if label == LEAKING else None,
                    oom_s=item.oom_s,
                )
            )
    return cases
