"""Every ``LEAKLAB_*`` setting and ``leaklab api`` flag with hostile values: one clear line, never a traceback.

Property-based (hypothesis) in-process against the one settings class and the API's argument parser;
a few real start-ups check what only a process shows (the exit code, stderr, a port that is taken).
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leaklab.procs import LOOPBACK, free_port
from leaklab_api.main import build_parser
from leaklab_api.settings import ENV_PREFIX, Settings, SettingsError, load_settings

VARIABLES = sorted(ENV_PREFIX + name.upper() for name in Settings.model_fields)
FLAGS = [a.option_strings[0] for a in build_parser()._actions if a.option_strings and a.nargs is None]
MAX_LINE_CHARS = 300

hostile = st.one_of(
    st.sampled_from(["", " ", "-1", "0", "-0", "1e400", "nan", "inf", "-inf", "0x10", "٣", "１２", "true\n", "None"]),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=40),
    st.integers(min_value=200, max_value=6000).map(lambda n: "9" * n),  # very long, past int()'s digit limit
    st.text(min_size=300, max_size=600).filter(lambda t: "\x00" not in t),
)


def check_error(exc: SettingsError, named: str) -> None:
    lines = str(exc).splitlines()
    assert lines and all(line.startswith(ENV_PREFIX) for line in lines), lines
    assert any(line.startswith(named + ":") for line in lines), (named, lines)
    assert all(len(line) <= MAX_LINE_CHARS for line in lines), "an error line too long to read"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(variable=st.sampled_from(VARIABLES), value=hostile)
def test_any_value_of_any_variable_starts_or_is_named_in_one_line(variable: str, value: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    with mock.patch.dict(os.environ, clean | {variable: value}, clear=True):
        try:
            load_settings()
        except SettingsError as exc:
            check_error(exc, variable)


def variable_of(flag: str) -> str:
    name = flag.removeprefix("--").replace("-", "_").upper()
    return ENV_PREFIX + ("CACHE_MODE" if name == "MODE" else name)


@settings(max_examples=100, deadline=None)
@given(flag=st.sampled_from(FLAGS), value=hostile)
def test_any_value_of_any_flag_parses_or_is_named_in_one_line(flag: str, value: str) -> None:
    stderr = io.StringIO()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    with mock.patch.dict(os.environ, clean, clear=True), contextlib.redirect_stderr(stderr):
        try:
            args = build_parser().parse_args([f"{flag}={value}"])
        except SystemExit as exit_:  # argparse: "leaklab api: error: argument --mode: invalid choice ..."
            assert exit_.code == 2
            assert stderr.getvalue().strip().splitlines()[-1].startswith("leaklab api: error: argument")
            return
        try:
            load_settings(**vars(args))
        except SettingsError as exc:
            check_error(exc, variable_of(flag))


def start(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    return subprocess.run(
        [sys.executable, "-m", "leaklab", "api", *args],
        env=clean | {"LEAKLAB_PORT": str(free_port())} | env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LEAKLAB_HOST": ""}, "LEAKLAB_HOST: string should have at least 1 character"),
        ({"LEAKLAB_HOST": "no-such-host.invalid"}, "LEAKLAB_HOST/LEAKLAB_PORT: cannot listen on no-such-host.invalid"),
        ({"LEAKLAB_HOST": "192.0.2.1"}, "LEAKLAB_HOST/LEAKLAB_PORT: cannot listen on 192.0.2.1"),  # not ours
        ({"LEAKLAB_REDIS_URL": "redis://localhost:6379/zero"}, "LEAKLAB_REDIS_URL: must be a Redis URL"),
        ({"LEAKLAB_LRU_MAX_ENTRIES": "9" * 5000}, "LEAKLAB_LRU_MAX_ENTRIES: must be a number >= 1"),
        ({"LEAKLAB_CACHE_MODE": "ḷṛụ"}, "LEAKLAB_CACHE_MODE: must be one of leaky, lru, redis (got 'ḷṛụ')"),
    ],
)
def test_hostile_start_up_exits_2_with_one_line(env: dict[str, str], expected: str) -> None:
    done = start(env)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and len(lines[0]) <= MAX_LINE_CHARS, done.stderr
    assert lines[0].startswith("leaklab api: error: " + expected), lines[0]


def test_a_port_already_taken_is_named_not_a_traceback() -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        done = start({}, "--port", str(taken.getsockname()[1]))
    assert done.returncode == 2
    assert "LEAKLAB_HOST/LEAKLAB_PORT: cannot listen on" in done.stderr and "Address already in use" in done.stderr
    assert "Traceback" not in done.stderr
