"""The ``leaklab`` commands' options with hostile values: they parse, or argparse prints one line
(``leaklab run: error: argument --users: ...``) and exits 2. Never a traceback, never a run started."""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leaklab.lab.options import add_lab_options
from leaklab.soak.command import build_parser as soak_parser

from .test_hostile_settings import MAX_LINE_CHARS, hostile


def run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="leaklab run")
    parser.add_argument("--mode", choices=("leaky", "lru", "redis"))
    add_lab_options(parser)
    return parser


PARSERS = {"leaklab run": run_parser, "leaklab soak": lambda: soak_parser("leaklab soak")}


def valued_options(parser: argparse.ArgumentParser) -> list[str]:
    return [a.option_strings[-1] for a in parser._actions if a.option_strings and a.nargs is None and a.dest != "help"]


@settings(max_examples=150, deadline=None)
@given(data=st.data(), command=st.sampled_from(sorted(PARSERS)), value=hostile)
def test_any_value_of_any_option_parses_or_is_one_line(data: st.DataObject, command: str, value: str) -> None:
    parser = PARSERS[command]()
    option = data.draw(st.sampled_from(valued_options(parser)))
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr):
        try:
            parser.parse_args([f"{option}={value}"])
        except SystemExit as exit_:
            assert exit_.code == 2
            lines = stderr.getvalue().strip().splitlines()
            errors = [line for line in lines if ": error: " in line]
            assert len(errors) == 1 and errors[0] == lines[-1], lines  # usage, then one line saying why
            assert errors[0].startswith(f"{command}: error: argument"), errors[0]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["run", "--users", "9" * 5000], "leaklab run: error: argument --users: must be a whole number"),
        (["run", "--redis-maxmemory", "lots"], "leaklab run: error: argument --redis-maxmemory: must be a size"),
        (["soak", "--modes", "leaky"], "leaklab soak: error: argument --modes: unknown mode leaky"),
        (["soak", "--duration=-1m"], "leaklab soak: error: argument --duration: not a duration"),
        (
            ["compare", "--mem-limit", "１２M"],
            "leaklab compare: error: argument --mem-limit: --mem-limit '１２M' is below 64M",
        ),
        (["nonsense"], "leaklab: error: unknown command 'nonsense'"),
    ],
)
def test_hostile_command_lines_exit_2_with_one_line(argv: list[str], expected: str) -> None:
    done = subprocess.run([sys.executable, "-m", "leaklab", *argv], capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith(expected) and len(errors[0]) <= MAX_LINE_CHARS, done.stderr
