"""``leaklab check``: the experiment as a CI gate, on each example of ``examples/`` and on a command.

Real apps in three frameworks, real Locust, a real memory limit: the leaking examples exit 1 and name
their line, the bounded one exits 0. The judging of a finished run (tolerance, unjudgeable runs) is
checked from recorded summaries.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from leaklab.lab.check import check_parser, verdict_line
from leaklab.lab.experiment import Outcome
from leaklab.lab.options import lab_options
from leaklab.lab.result import ModeResult
from leaklab.lab.sampler import Sample
from leaklab.lab.verdict import analyse
from leaklab.units import MIB

from ..side_by_side import finish, side_by_side, start
from .conftest import EXAMPLES, line_of

DURATION = "25s"  # long enough for a steady line after the warm-up; the examples leak tens of MiB a minute
PLATEAU_DURATION = "60s"  # the bounded example holds from ~8 s on, after a slow creep: judged on a longer line
COMMAND_DURATION = "20s"  # runs while the plateau does: 10 s of readings after warm-up, with room
LEAKING = {
    "fastapi_gc_cycles": ("/orders/{uuid}", 'self.text = f"{label}: "'),
    "flask_order_loggers": ("/orders/{uuid}", 'log.info("order %s: priced'),
}
COMMAND = "uvicorn under --cmd"


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory, bare_python: Path) -> dict[str, tuple[Path, Any]]:
    """``leaklab check`` on every example, side by side (each is one process under its own memory limit):
    ``example -> (report directory, CompletedProcess)``. The bounded one runs in a bare virtualenv, for longest;
    while it runs, the leaking ones, then a ``--cmd`` run of the first."""
    root = tmp_path_factory.mktemp("examples")
    argv = [sys.executable, "-m", "leaklab", "check", "--app", "app:app"]
    plateau = [*argv, "--duration", PLATEAU_DURATION, "--python", str(bare_python)]
    plateau += ["--app-dir", str(EXAMPLES / "wsgi_expiring_sessions"), "--path", "/sessions/{uuid}"]
    leaking: dict[str, list[str]] = {
        name: [*argv, "--duration", DURATION, "--app-dir", str(EXAMPLES / name), "--path", path]
        for name, (path, _) in LEAKING.items()
    }
    uvicorn = f"{sys.executable} -m uvicorn app:app --port {{port}}"
    command = [sys.executable, "-m", "leaklab", "check", "--cmd", uvicorn, "--duration", COMMAND_DURATION]
    command += ["--app-dir", str(EXAMPLES / "fastapi_gc_cycles"), "--path", "/orders/{uuid}"]

    def out(name: str, args: list[str]) -> list[str]:
        return [*args, "--out", str(root / name)]

    holding = start({"wsgi_expiring_sessions": out("wsgi_expiring_sessions", plateau)})
    try:
        done = side_by_side({name: out(name, args) for name, args in leaking.items()}, timeout_s=240)
        done |= side_by_side({COMMAND: out(COMMAND, command)}, timeout_s=240)
    finally:
        done_plateau = finish(holding, timeout_s=240)
    return {name: (root / name, result) for name, result in (done | done_plateau).items()}


def _summary(out: Path) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return summary


@pytest.mark.slow
@pytest.mark.parametrize("example", list(LEAKING))
def test_check_fails_a_leaking_example_and_names_its_line(examples: dict[str, tuple[Path, Any]], example: str) -> None:
    app_dir = EXAMPLES / example
    out, done = examples[example]
    leaking_line = LEAKING[example][1]
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr == ""  # the gate's output is its one line
    line = done.stdout.strip()
    assert "\n" not in line and line.startswith("app:app: leaking at +"), line
    assert f"python objects; top line: app.py:{line_of(app_dir / 'app.py', leaking_line)} " in line, line
    # flask_order_loggers: the records are allocated in logging, named by their caller in app.py ("via
    # stdlib/logging/..."); in some windows the argument tuples made on that same line weigh most: the same line
    assert line.endswith(f"report: {out / 'report.html'}")
    m = _summary(out)["modes"]["app:app"]
    assert m["verdict"] == "leaking" and m["limit_mechanism"] and m["requests"] > 0


@pytest.mark.slow
def test_check_passes_the_bounded_example_run_in_a_bare_virtualenv(
    examples: dict[str, tuple[Path, Any]], bare_python: Path
) -> None:
    app_dir = EXAMPLES / "wsgi_expiring_sessions"
    out, done = examples["wsgi_expiring_sessions"]
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert done.stdout.startswith("app:app: bounded at "), done.stdout
    summary = _summary(out)
    about = summary["targets"]["app:app"]
    assert about["kind"] == "app" and about["interface"] == "WSGI"
    assert about["server"].startswith("wsgiref") and about["python"].startswith(str(bare_python))
    m = summary["modes"]["app:app"]
    assert m["alloc"]["sites"][0]["site"] == f"app.py:{line_of(app_dir / 'app.py', 'for n in range(CART_LINES)')}"
    page = (out / "report.html").read_text()
    assert "Your service ran as the lab runs its own API" in page and "wsgi_expiring_sessions" in page


@pytest.mark.slow
def test_check_on_a_command_judges_it_on_rss_alone_and_says_so(examples: dict[str, tuple[Path, Any]]) -> None:
    out, done = examples[COMMAND]
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout.startswith("uvicorn: leaking at +"), done.stdout
    assert "judged on RSS alone: a --cmd shows no line (--app names it)" in done.stdout
    summary = _summary(out)
    assert summary["targets"]["uvicorn"]["kind"] == "cmd"
    assert summary["modes"]["uvicorn"]["alloc"] is None
    assert "What this run cannot see." in (out / "report.html").read_text()


def _outcome(tmp_path: Path, **mode: Any) -> Outcome:
    summary = {
        "verdict": "bounded", "leak_rate_mib_per_min": 0.4, "fit_r2": 0.2, "oom_kills": 0, "requests": 2000,
        "failures": 0, "rss_plateau_mib": 61.0, "leak_class": None, "top_line": None, "load": {"errors": []},
    }  # fmt: skip
    summary.update(mode)
    result = ModeResult("main:app", started=True)
    return Outcome([result], {"modes": {"main:app": summary}}, tmp_path / "report.html", False, Console())


def test_the_tolerance_is_the_verdicts_own_and_an_oom_kill_never_passes() -> None:
    """``--max-growth-mib-per-min`` reaches the judge: a steady 3.2 MiB/min leak fails by default, passes under a
    tolerance of 5, and a kill at the memory limit fails whatever the tolerance."""
    args = check_parser().parse_args(["--app", "main:app", "--max-growth-mib-per-min", "5"])
    assert lab_options(args).tolerance_mib_per_min == 5.0
    samples = [
        Sample("main:app", float(t), 1e9 + t, 100, 1, int((60 + 3.2 * t / 60) * MIB), requests_total=40 * t)
        for t in range(120)
    ]
    assert analyse(samples, 0)["verdict"] == "leaking"
    within = analyse(samples, 0, tolerance_mib_per_min=5.0)
    assert within["verdict"] == "bounded", within["verdict_reason"]
    assert analyse(samples, 1, tolerance_mib_per_min=5.0)["verdict"] == "leaking"


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        ({"verdict": "inconclusive", "verdict_reason": "too few samples"}, "could not judge (inconclusive): too few"),
        ({"requests": 0}, "could not judge: no request reached the service"),
        (
            {"failures": 1900, "load": {"errors": [{"error": "HTTPError('404 Client Error')", "occurrences": 1900}]}},
            "could not judge: 1,900 of 2,000 requests failed (most often: HTTPError('404 Client Error'))",
        ),
    ],
)
def test_a_run_that_cannot_be_judged_exits_2(tmp_path: Path, mode: dict[str, Any], says: str) -> None:
    code, line = verdict_line(_outcome(tmp_path, **mode))
    assert code == 2 and line.startswith(f"main:app: {says}"), line
