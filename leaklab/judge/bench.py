"""``leaklab judge --bench`` (``make verdict-bench``): the judge and the baselines on the corpus, in one run."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..verdict import BOUNDED, LEAKING
from .baselines import ABOUT
from .corpus import Case, corpus
from .corpus.generated import HELD_OUT, PER_SHAPE, SEED, SHAPES, generated
from .corpus.grid import LAB, PROMETHEUS
from .corpus.recorded import FIXED, LEAKY, RECORDINGS
from .markdown import held_out_table, tables, update_markdown
from .score import METHODS, score

RECORDED_ABOUT = {
    LEAKY: "recorded `leaklab compare` runs of every catalogue scenario without its fix, and the leaky cache",
    FIXED: "the same runs with each fix applied, and the lru and redis cache modes",
}


class Progress:
    """``verdict-bench: 812/1650 answers (49%)``: rewritten in place on a terminal, every 10% otherwise."""

    def __init__(self, total: int) -> None:
        self.total, self.done, self.shown = total, 0, -1
        self.tty = sys.stderr.isatty()

    def __call__(self, step: int) -> None:
        self.done += step
        share = self.done * 100 // max(self.total, 1)
        if self.tty or share // 10 != self.shown // 10:
            end = "\r" if self.tty else "\n"
            print(f"verdict-bench: {self.done}/{self.total} answers ({share}%)", end=end, file=sys.stderr, flush=True)
            self.shown = share

    def finish(self) -> None:
        if self.tty:
            print(file=sys.stderr)


def describe(cases: Sequence[Case]) -> dict[str, Any]:
    about = {shape: text for shape, (_, _, text) in SHAPES.items()} | RECORDED_ABOUT
    shapes = list(dict.fromkeys(c.shape for c in cases))
    return {
        "series": len(cases),
        "leaking": sum(c.label == LEAKING for c in cases),
        "bounded": sum(c.label == BOUNDED for c in cases),
        "generated": sum(c.source == "generated" for c in cases),
        "generated_shapes": len({c.shape for c in cases if c.source == "generated"}),
        "recorded": sum(c.source == "recorded" for c in cases),
        "lab": sum(c.sampling == LAB for c in cases),
        "prometheus": sum(c.sampling == PROMETHEUS for c in cases),
        "shapes": [
            {
                "shape": s,
                "label": next(c.label for c in cases if c.shape == s),
                "series": sum(c.shape == s for c in cases),
                "about": about.get(s, ""),
            }
            for s in shapes
        ],
    }


def judge_version() -> str:
    """The last commit that changed the judge (``+changes`` when the tree differs from it), or the version."""
    from .. import __version__

    repo = Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "-C", str(repo), "log", "-1", "--format=%h %s", "--", "leaklab/verdict"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(repo), "status", "--porcelain", "--", "leaklab/verdict"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        head, dirty = "", ""
    return (head + (" +changes" if dirty else "")) if head else f"leaklab {__version__}"


def held_out(progress: Progress) -> list[dict[str, Any]]:
    """Every method on generated corpora from seeds the judge was not tuned on (whole windows only)."""
    out = []
    for seed in HELD_OUT:
        cases = generated(seed)
        figures = [s.figures(cases) for s in score(cases, progress=progress)]
        out.append({"seed": seed, "series": len(cases), "methods": figures})
    return out


def run_bench(markdown: Path | None, prefixes: int, argv: Sequence[str]) -> int:
    started = time.monotonic()
    cases = corpus()
    leaks = sum(c.label == LEAKING for c in cases)
    fresh = len(HELD_OUT) * PER_SHAPE * len(SHAPES)
    progress = Progress(len(METHODS) * (len(cases) + leaks * max(prefixes - 1, 0) + fresh))
    print(
        f"verdict-bench: {len(cases)} series, {len(METHODS)} methods, {prefixes} prefixes per leak",
        file=sys.stderr,
    )
    scores = score(cases, prefixes=prefixes, progress=progress)
    others = held_out(progress)
    progress.finish()
    doc: dict[str, Any] = {
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "elapsed_s": time.monotonic() - started,
        "command": " ".join(["leaklab judge", *argv]),
        "judge_version": judge_version(),
        "prefixes": prefixes,
        "corpus": describe(cases),
        "methods": [s.figures(cases) for s in scores],
        "seed": SEED,
        "held_out": others,
        "baselines": list(ABOUT),
        "recordings": list(RECORDINGS.values()),
    }
    print("\n".join([*tables(doc), "", *held_out_table(doc)]))
    judged = doc["methods"][0]
    if judged["wrong_cases"]:
        print(f"\n{judged['method']} is wrong on: {', '.join(judged['wrong_cases'])}")
    for run in others:
        if wrong := run["methods"][0]["wrong_cases"]:
            print(f"held out (seed {run['seed']}), wrong on: {', '.join(wrong)}")
    if markdown:
        update_markdown(markdown, doc)
        print(f"\nverdict-bench: updated the generated section of {markdown}", file=sys.stderr)
    return 0
