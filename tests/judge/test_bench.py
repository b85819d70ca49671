"""``leaklab judge --bench`` (``make verdict-bench``): one run scores every method and writes its section."""

from __future__ import annotations

from pathlib import Path

import pytest

from leaklab.bench.command import main as bench
from leaklab.judge.command import main
from leaklab.judge.markdown import BEGIN, END
from leaklab.judge.score import METHODS

HAND_WRITTEN = "# Benchmarks\n\nWritten by hand, kept.\n\n<!-- leaklab bench: end of generated section -->\n"


def test_the_bench_prints_every_method_and_writes_its_section_once_under_either_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "BENCHMARKS.md"
    page.write_text(HAND_WRITTEN)
    assert bench(["--verdict", "--prefixes", "0", "--markdown", str(page)]) == 0  # leaklab bench --verdict: the same
    assert main(["--bench", "--prefixes", "2", "--markdown", str(page)]) == 0  # replaces its section, nothing more
    out, err = capsys.readouterr()
    assert all(f"| {method} |" in out for method in METHODS)
    assert "verdict-bench: " in err and "(100%)" in err  # progress, to the end
    text = page.read_text()
    assert text.startswith(HAND_WRITTEN.rstrip("\n")) and text.count(BEGIN) == text.count(END) == 1
    section = text.split(BEGIN)[1]
    assert "| leaklab judge |" in section and "| warmup-hold | bounded | 20 |" in section
    assert "Held out: the same 12 generated shapes" in section and "| 22 | 240 |" in section
    assert "leaklab compare --scenarios all --duration 30s" in section  # how the recordings were made
    assert "Command: `leaklab judge --bench --prefixes 2 --markdown" in section


def test_markdown_goes_with_bench_and_bench_takes_no_source(capsys: pytest.CaptureFixture[str]) -> None:
    for argv, message in ((["--markdown", "x.md", "--csv", "a.csv"], "--markdown goes with --bench"),
                          (["--bench", "--csv", "a.csv"], "--bench scores the corpus: give no source")):  # fmt: skip
        with pytest.raises(SystemExit):
            main(argv)
        assert message in capsys.readouterr().err
