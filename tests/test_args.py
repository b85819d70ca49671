"""The argument types every ``leaklab`` command shares: sizes, durations, bounded numbers, choice lists."""

from __future__ import annotations

import argparse

import pytest

from leaklab.args import choice_list, duration, number, parse_size
from leaklab.units import MIB


@pytest.mark.parametrize(
    ("text", "size"),
    [("192M", 192 * MIB), ("192MiB", 192 * MIB), ("300mb", 300 * MIB), ("1g", 1024 * MIB), ("1.5G", 1536 * MIB),
     ("512k", 512 * 1024), ("4096", 4096), (" 64 M ", 64 * MIB), ("10b", 10)],
)  # fmt: skip
def test_sizes_are_binary_like_dockers_mem_limit(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "M", "12Q", "-5M", "1e6", "twelve"])
def test_bad_sizes_say_what_a_size_looks_like(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not a size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "seconds"), [("50s", 50), ("2m", 120), ("1m30s", 90), ("1h", 3600), ("90", 90), ("1h2m3s", 3723)]
)
def test_durations(text: str, seconds: int) -> None:
    assert duration(1, 24 * 3600)(text) == seconds


@pytest.mark.parametrize("text", ["", "s", "abc", "5 minutes", "-3s", "1.5m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not a duration"):
        duration(1, 3600)(text)


def test_durations_out_of_range_name_the_range() -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="between 3s and 60s"):
        duration(3, 60)("2s")
    with pytest.raises(argparse.ArgumentTypeError, match="between 3s and 60s"):
        duration(3, 60)("2m")


def test_bounded_numbers() -> None:
    users = number(int, 1, 500)
    assert users("1") == 1 and users("500") == 500
    with pytest.raises(argparse.ArgumentTypeError, match="from 1 to 500"):
        users("0")
    with pytest.raises(argparse.ArgumentTypeError, match="a whole number from 1 to 500"):
        users("2.5")
    wait = number(float, 0)
    assert wait("0") == 0.0 and wait("12.5") == 12.5
    with pytest.raises(argparse.ArgumentTypeError, match="0 or more"):
        wait("-0.1")


def test_choice_lists_keep_order_and_drop_repeats() -> None:
    modes = choice_list(("leaky", "lru", "redis"), "mode")
    assert modes("redis, leaky,redis") == ["redis", "leaky"]
    with pytest.raises(argparse.ArgumentTypeError, match=r"unknown mode fast; choose from leaky, lru, redis"):
        modes("leaky,fast")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown mode"):
        modes(" , ")


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["run", "--mem-limit", "32M"], "argument --mem-limit: --mem-limit '32M' is below 64M"),
        (["run", "--duration", "2s"], "argument --duration: duration must be between 3s and 86400s"),
        (["run", "--users", "0"], "argument --users: must be 1 or more (got '0')"),
        (["compare", "--modes", "leaky,fast"], "argument --modes: unknown mode fast; choose from leaky, lru, redis"),
        (["profile", "--wait-s", "61"], "argument --wait-s: must be from 0 to 60 (got '61')"),
        (["bench", "--servers", "nginx"], "argument --servers: unknown server nginx; choose from leaky, lru"),
        (["bench", "--redis-maxmemory", "lots"], "argument --redis-maxmemory: must be a size like 64mb or 1gb"),
        (["judge"], "give one source: a run directory, --csv FILE or --prometheus URL --query Q"),
        (["judge", "--csv", "a.csv", "--prometheus", "http://127.0.0.1:9"], "give one source"),
        (["judge", "--prometheus", "http://127.0.0.1:9"], "--prometheus needs --query"),
        (["judge", "some-run", "--value-col", "rss"], "--value-col goes with --csv"),
        (["judge", "--csv", "a.csv", "--since", "soon"], "argument --since: not a duration: 'soon'"),
        (["judge", "--csv", "a.csv", "--limit", "lots"], "argument --limit: not a size: 'lots'"),
        (["judge", "--csv", "a.csv", "--tolerance-mib-per-min", "-1"], "argument --tolerance-mib-per-min: must be 0"),
    ],
)
def test_each_commands_parser_rejects_bad_input_in_one_line(
    argv: list[str], error: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from leaklab.cli import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f"leaklab {argv[0]}: error: {error}"), last
