"""``leaklab drill``: a hidden leak, the learner's answer, the grade, the fix; ``answer``/``hint`` from elsewhere."""

from __future__ import annotations

import argparse
import contextlib
import os
import queue
import random
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from ..args import duration, number, parse_size
from ..procs import ChildDied, MissingBinary
from ..units import to_mib
from . import mailbox
from .catalogue import SCENARIOS, Leak, leak
from .compose_lab import ComposeDrillLab, env_port
from .conversation import Conversation, hints
from .lab import DrillLab, DrillLoad, describe
from .record import Record
from .remote import remote

PROJECT = Path(__file__).resolve().parents[2]
REPORTS = PROJECT / "reports" / "drills"
STATUS_EVERY_S = 15.0
Lab = DrillLab | ComposeDrillLab


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "An incident drill: the API runs one leak of the catalogue, its name hidden from metrics, /healthz and "
            "logs, under StoryUser load. Find the leaking line and its class with the lab's tools; the drill grades "
            "the answer and the time, explains the leak, applies its fix and shows memory level off."
        ),
        epilog=(
            f"From another terminal: `{prog} answer WHERE CLASS` (e.g. scenarios/memoize.py:42 python) or "
            f"`{prog} hint`. Scenarios: {', '.join(SCENARIOS)}."
        ),
    )
    parser.add_argument("--seed", type=number(int, 0), help="seed of the random choice, for a drill you can repeat")
    parser.add_argument("--scenario", choices=SCENARIOS, help="pin the scenario (instructors); default: random")
    parser.add_argument(
        "--users", type=number(int, 0, 500), default=10, help="Locust StoryUsers (default 10; 0 = none)"
    )
    parser.add_argument("--wait-s", type=number(float, 0, 60), default=0.5, help="mean wait per user (default 0.5)")
    parser.add_argument("--mem-limit", type=parse_size, default=256 * 1024**2, help="API memory limit (default 256M)")
    parser.add_argument(
        "--after-fix", type=duration(0, 600), default=40, help="how long to watch memory after the fix (default 40s)"
    )
    parser.add_argument(
        "--compose",
        action="store_true",
        help="run the drill on the Compose lab (make lab-drill) instead of local processes",
    )
    parser.add_argument("--out", type=Path, help="drill directory (default reports/drills/YYYYmmdd-HHMMSS)")
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "leaklab drill") -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("answer", "hint"):
        return remote(args[0], args[1:], prog, REPORTS)
    options = build_parser(prog).parse_args(args)
    scenario = options.scenario or random.Random(options.seed).choice(SCENARIOS)
    out: Path = options.out or REPORTS / f"{datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=True)
    load = DrillLoad(options.users, options.wait_s, options.mem_limit)
    return run(
        scenario, out, load, seed=options.seed, after_fix_s=options.after_fix, prog=prog, compose=options.compose
    )


def run(
    scenario: str, out: Path, load: DrillLoad, *, seed: int | None, after_fix_s: int, prog: str, compose: bool = False
) -> int:
    """The whole drill in this terminal; returns 0 when the answer was correct."""
    facts = leak(scenario)
    record = Record(facts, seed)
    lab: Lab = ComposeDrillLab(out, facts, load) if compose else DrillLab(out, facts, load, drive_load=load.users > 0)
    say = _printer()
    try:
        lab.start()
        record.note("lab started")
        mailbox.open_box(out, {"url": lab.url, "started_at": record.started})
        conversation = Conversation(facts, record, hints(facts, lab.url, lab.port))
        say(_welcome(lab, load, prog, out))
        if isinstance(lab, ComposeDrillLab):
            say(_compose_urls())
        _converse(lab, record, conversation, say)
        say(_explain(facts))
        if after_fix_s:
            lab.apply_fix()
            record.note("fix applied")
            say(f"Fix applied: the API restarted with the scenario's fix; watching memory for {after_fix_s} s.")
            _watch(lab, record, after_fix_s, say)
    except KeyboardInterrupt:
        record.outcome = "interrupted"
        record.note("interrupted (Ctrl-C)")
        say("Interrupted: stopping the lab and writing what was recorded.")
    except (ChildDied, MissingBinary, OSError) as exc:
        record.outcome = "error"
        record.note("error", message=str(exc).splitlines()[0])
        print(f"{prog}: error: {str(exc).splitlines()[0]}", file=sys.stderr)
    finally:
        lab.stop()
        verdicts = {"leaking": lab.verdict(fixed=False), "fixed": lab.verdict(fixed=True)}
        page = record.write(out, lab.samples, verdicts)
        with contextlib.suppress(OSError):
            mailbox.write_json(out / mailbox.STATE, {"finished": record.outcome})
        say(f"Grade and timeline: {out / 'drill.json'} and {page}")
    return 0 if record.outcome == "correct" else 1


def _converse(lab: Lab, record: Record, conversation: Conversation, say: Callable[[str], None]) -> None:
    lines: queue.Queue[str | None] = queue.Queue()
    stdin_open, last_status = _in_foreground(), time.monotonic()
    if stdin_open:
        threading.Thread(target=_read_stdin, args=(lines,), daemon=True).start()
    while not conversation.done:
        event = lab.tick()
        if event:
            record.note(event)
            say(event)
        for name, message in mailbox.receive(lab.out):
            text = "hint" if message.get("kind") == "hint" else f"answer {message.get('text', '')}"
            reply = conversation.handle(text)
            mailbox.reply(lab.out, name, {"reply": reply, "done": conversation.done})
            say(f"(from `drill {message.get('kind', 'answer')}`) {reply}")
            if conversation.done:
                return
        deadline = time.monotonic() + 1.0
        while stdin_open and not conversation.done and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                stdin_open = False
                break
            if reply := conversation.handle(line):
                say(reply)
        if not stdin_open:
            time.sleep(max(0.0, deadline - time.monotonic()))
        if time.monotonic() - last_status >= STATUS_EVERY_S:
            last_status = time.monotonic()
            say(_status(lab, record))


def _in_foreground() -> bool:
    """Whether stdin is ours to read: a pipe, or the terminal while this is its foreground job
    (a drill started with ``&`` would be stopped by the terminal on its first read: it takes answers
    from ``leaklab drill answer`` only)."""
    try:
        return not os.isatty(0) or os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def _read_stdin(lines: queue.Queue[str | None]) -> None:
    for line in sys.stdin:
        lines.put(line)
    lines.put(None)


def _watch(lab: Lab, record: Record, seconds: int, say: Callable[[str], None]) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if event := lab.tick():
            record.note(event)
        time.sleep(1.0)
    before, after = lab.verdict(fixed=False), lab.verdict(fixed=True)
    record.note(
        "memory after the fix",
        leaking_mib_per_min=before.rate_mib_per_min,
        fixed_mib_per_min=after.rate_mib_per_min,
        fixed_verdict=after.verdict,
    )
    say(f"Memory: {describe(before)} while leaking; with the fix: {describe(after)}.")


def _status(lab: Lab, record: Record) -> str:
    rss = lab.samples[-1]["rss_mib"] if lab.samples else None
    memory = "-" if rss is None else f"{rss:,.0f} MiB"
    verdict = describe(lab.verdict(fixed=lab.fixed))
    return f"[{record.elapsed_s():5.0f} s] API memory {memory} ({verdict}), restarts {lab.restarts}"


def _welcome(lab: Lab, load: DrillLoad, prog: str, out: Path) -> str:
    limit_mib = to_mib(load.mem_limit_bytes)
    return textwrap.dedent(
        f"""\
        A leak is hidden in the API at {lab.url} ({load.users} StoryUsers; memory limit {limit_mib:.0f} MiB).
        Find the line that keeps the memory and whether it is Python objects or native memory.
          memory    {lab.url}/metrics: process_resident_memory_bytes (and this terminal, every {STATUS_EVERY_S:.0f} s)
          where     curl -X POST {lab.url}/debug/memory/start; then curl {lab.url}/debug/memory (tracemalloc)
          profile   leaklab attach --port {lab.port} [--native]  (memray on the running API)
        Answer as WHERE CLASS, e.g. `scenarios/memoize.py:42 python` or `memoize.Memoize.on_request native`;
        `hint` for a hint (each is noted in the grade), `give up` to see the leak.
        From another terminal: {prog} answer WHERE CLASS  (or {prog} hint); the drill's files: {out}"""
    )


def _explain(facts: Leak) -> str:
    return (
        f"The leak was `{facts.scenario}`: {facts.path}:{facts.line} in {facts.function}(), "
        f"{'Python objects' if facts.kind == 'python' else 'native memory'}:\n    {facts.source}\n\n"
        + textwrap.indent(facts.explanation, "  ")
    )


def _compose_urls() -> str:
    grafana, prometheus = env_port("GRAFANA_PORT", 3000), env_port("PROMETHEUS_PORT", 9090)
    return (
        f"  Grafana     http://127.0.0.1:{grafana}   memory, leak rate, where the memory is\n"
        f"  Prometheus  http://127.0.0.1:{prometheus}   alerts and every metric\n"
        "  (leaklab attach --compose needs the opt-in override: make lab-attach)"
    )


def _printer() -> Callable[[str], None]:
    def say(text: str) -> None:
        print(text, flush=True)

    return say
