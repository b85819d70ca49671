"""The drill's record: a timeline of what happened and the grade, as ``drill.json`` and ``drill.html``.

Written at the end, whatever ended the drill (an answer, giving up, Ctrl-C, an error), so the record
always exists; the scenario is named here, after the fact, and nowhere while the drill runs.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..verdict import Verdict
from .catalogue import Leak
from .grading import Grade


@dataclass
class Record:
    leak: Leak
    seed: int | None
    started: float = field(default_factory=time.time)
    t0: float = field(default_factory=time.monotonic)
    events: list[dict[str, Any]] = field(default_factory=list)
    grades: list[Grade] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)
    outcome: str = "running"

    def elapsed_s(self) -> float:
        return round(time.monotonic() - self.t0, 1)

    def note(self, what: str, **data: Any) -> None:
        self.events.append({"t": self.elapsed_s(), "event": what, **data})

    def to_json(self, samples: list[dict[str, Any]], verdicts: dict[str, Verdict]) -> dict[str, Any]:
        final = self.grades[-1] if self.grades else None
        return {
            "scenario": self.leak.scenario,
            "seed": self.seed,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "outcome": self.outcome,
            "correct": bool(final and final.correct),
            "time_to_answer_s": final.seconds if final else None,
            "hints_used": len(self.hints),
            "grades": [g.to_json() for g in self.grades],
            "hints": self.hints,
            "answer_key": {
                "where": f"{self.leak.path}:{self.leak.line}",
                "function": self.leak.function,
                "class": self.leak.kind,
                "line": self.leak.source,
            },
            "memory": {phase: v.to_json() for phase, v in verdicts.items()},
            "timeline": self.events,
            "samples": samples,
        }

    def write(self, out: Path, samples: list[dict[str, Any]], verdicts: dict[str, Verdict]) -> Path:
        data = self.to_json(samples, verdicts)
        (out / "drill.json").write_text(json.dumps(data, indent=2) + "\n")
        page = out / "drill.html"
        page.write_text(_html(data, self.leak.explanation))
        return page


def _html(data: dict[str, Any], explanation: str) -> str:
    e = html.escape
    verdict = "correct" if data["correct"] else "not correct"
    grades = "".join(
        f"<li><code>{e(g['answer'])}</code>: {e(g['feedback'])} ({g['seconds']:.0f} s, {g['hints']} hints)</li>"
        for g in data["grades"]
    )
    events = "".join(f"<tr><td>{ev['t']:.0f} s</td><td>{e(ev['event'])}</td></tr>" for ev in data["timeline"])
    memory = data["memory"]
    key = data["answer_key"]
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>leaklab drill: {e(data["scenario"])}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem}}
td{{padding:.1rem .8rem .1rem 0;vertical-align:top}}pre{{white-space:pre-wrap;background:#f4f4f4;padding:1rem}}</style>
</head><body>
<h1>Drill: {verdict}</h1>
<p>Scenario <b>{e(data["scenario"])}</b>, started {e(data["started_at"])}, outcome: {e(data["outcome"])};
hints used: {data["hints_used"]}; time to answer: {_s(data["time_to_answer_s"])}.</p>
<h2>Answers</h2><ul>{grades or "<li>none</li>"}</ul>
<h2>The leak</h2>
<p><code>{e(key["where"])}</code> in <code>{e(key["function"])}()</code>, class <b>{e(key["class"])}</b>:
<code>{e(key["line"])}</code></p>
<pre>{e(explanation)}</pre>
<p>Memory (the lab's verdict): {_memory(memory.get("leaking"))} while leaking; {_memory(memory.get("fixed"))} with
the fix.</p>
<h2>Timeline</h2><table>{events}</table>
</body></html>
"""


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.0f} s"


def _memory(v: dict[str, Any] | None) -> str:
    if not v or v.get("rate_mib_per_min") is None:
        return "not measured"
    return html.escape(f"{v['verdict']}, {v['rate_mib_per_min']:+,.1f} MiB/min: {'; '.join(v['reasons'])}")
