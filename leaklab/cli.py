"""The ``leaklab`` command: one subcommand per job, each a module with ``main(argv) -> int``."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

# name -> (module whose main(argv) runs it, one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "api": ("leaklab_api.main", "run the API service (one uvicorn process)"),
    "run": (
        "leaklab.lab.run",
        "run one cache mode, or your own service (--app/--cmd), under load and a memory limit; write a report",
    ),
    "check": ("leaklab.lab.check", "the same run as a CI gate: one line, exit 0 bounded, 1 leaking, 2 could not judge"),
    "compare": ("leaklab.lab.compare", "run several modes under the same load, one report side by side (make demo)"),
    "report": ("leaklab.lab.report.command", "re-render a report directory from its recorded data"),
    "profile": (
        "leaklab.profile.command",
        "run the API under memray with load: flame graph and the top allocating line",
    ),
    "soak": (
        "leaklab.soak.command",
        "the fixed modes under sustained load, judged against pass criteria (RELIABILITY.md)",
    ),
    "attach": (
        "leaklab.profile.attach.command",
        "attach memray to the running API for a while, no restart: the top allocating line",
    ),
    "drill": ("leaklab.drill.command", "incident drill: a hidden leak to find; graded, explained, then fixed"),
    "judge": (
        "leaklab.judge.command",
        "the verdict on any memory series (CSV, run directory, Prometheus); --bench scores it on the corpus",
    ),
    "bench": ("leaklab.bench.command", "benchmark each mode against the story's Node.js server and the ceilings"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"  {name:<{width}}  {summary}" for name, (_, summary) in COMMANDS.items()]
    return (
        "usage: leaklab COMMAND [options]\n\ncommands:\n"
        + "\n".join(lines)
        + "\n\nRun `leaklab COMMAND --help` for a command's options; `leaklab --version` for the version."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if args[0] == "--version":
        from . import __version__

        print(f"leaklab {__version__}")
        return 0
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"leaklab: error: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    try:
        return int(module.main(rest, prog=f"leaklab {command}") or 0)
    except KeyboardInterrupt:
        print(f"leaklab {command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
