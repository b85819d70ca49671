"""docs/your-service.md and the README's "Your own service" name real things: commands that parse, the examples."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from leaklab.lab.check import check_parser
from leaklab.lab.run import build_parser

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "your-service.md").read_text()
README = (ROOT / "README.md").read_text()
FIRST_SCREEN_LINES = 40


def _commands(text: str) -> list[str]:
    """Every ``leaklab run``/``check`` command line in the text's shell blocks (``$`` prompts and comments dropped)."""
    found = []
    for block in re.findall(r"```(?:sh|yaml)?\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ").removeprefix("run: ")
            if line.startswith(("leaklab run ", "leaklab check ")):
                found.append(line.split("  #")[0])
    return found


COMMANDS = _commands(GUIDE) + _commands(README.split("## Your own service", 1)[1].split("\n## ", 1)[0])


def test_the_readme_shows_your_own_service_on_its_first_screen() -> None:
    first_screen = "\n".join(README.splitlines()[:FIRST_SCREEN_LINES])
    assert "**Your own service**" in first_screen and "docs/your-service.md" in first_screen
    assert "leaklab check --app" in first_screen


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_in_the_docs_parses(command: str) -> None:
    words = shlex.split(command)
    parser = check_parser() if words[1] == "check" else build_parser("leaklab run", "")
    parser.parse_args(words[2:])  # argparse exits 2 on a flag or value the command does not take


def test_the_guide_covers_check_and_each_example() -> None:
    assert {"check", "run"} <= {shlex.split(c)[1] for c in COMMANDS}
    examples = sorted(p.name for p in (ROOT / "examples").iterdir() if (p / "app.py").exists())
    assert examples and all(f"`{name}`" in GUIDE for name in examples)
