"""``leaklab drill`` end to end: a real hidden API under real Locust load, answers on stdin and from
another terminal (``leaklab drill answer``/``hint``), the fix, the record, and Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from leaklab.drill.catalogue import leak

TIMEOUT_S = 120.0


def _drill(out: Path, *args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "leaklab", "drill", "--users", "2", "--out", str(out), *args]
    return subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(path: Path, proc: subprocess.Popen[str]) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if path.exists():
            data: dict[str, Any] = json.loads(path.read_text())
            return data
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        time.sleep(0.2)
    raise AssertionError(f"{path} did not appear within {TIMEOUT_S:g}s")


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@pytest.mark.slow
def test_a_drill_on_stdin_grades_wrong_malformed_and_right_answers_and_applies_the_fix(tmp_path: Path) -> None:
    facts = leak("cache")
    proc = _drill(tmp_path, "--scenario", "cache", "--after-fix", "12s")
    state = _wait_for(tmp_path / "state.json", proc)
    answers = f"hint\nlru.py:10 python\nleaky.py:{facts.line} native\nnonsense\nleaky.py:{facts.line} python\n"
    output, _ = proc.communicate(answers, timeout=TIMEOUT_S)
    assert proc.returncode == 0, output
    welcome = output.split("Hint 1 of 3")[0]
    assert "A leak is hidden in the API" in welcome and "cache" not in welcome and "leaky" not in welcome
    assert "Hint 1 of 3" in output and "Not understood" in output and "Correct after" in output
    record = json.loads((tmp_path / "drill.json").read_text())
    assert record["outcome"] == "correct" and record["correct"] and record["hints_used"] == 1
    assert [(g["where"], g["kind_correct"], g["correct"]) for g in record["grades"]] == [
        ("wrong", True, False),
        ("line", False, False),
        ("malformed", False, False),
        ("line", True, True),
    ]
    assert record["time_to_answer_s"] > 0
    assert [e["event"] for e in record["timeline"]][-2:] == ["fix applied", "memory after the fix"]
    assert record["answer_key"]["where"] == f"{facts.path}:{facts.line}"
    assert "<h1>Drill: correct</h1>" in (tmp_path / "drill.html").read_text()
    assert not _listening(_port(state["url"]))  # everything it started is gone


@pytest.mark.slow
def test_drill_answer_and_hint_from_another_terminal_reach_a_background_drill(tmp_path: Path) -> None:
    proc = _drill(tmp_path, "--scenario", "cache", "--after-fix", "0")
    _wait_for(tmp_path / "state.json", proc)

    def remote(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "leaklab", "drill", *args, "--dir", str(tmp_path)]
        return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)

    hint = remote("hint")
    assert hint.returncode == 0 and hint.stdout.startswith("Hint 1 of 3"), hint.stderr
    wrong = remote("answer", "cache/lru.py:20", "python")
    assert wrong.returncode == 0 and wrong.stdout.startswith("Not correct"), wrong.stderr
    right = remote("answer", "leaky.LeakyCache.put", "python")
    assert right.stdout.startswith("Correct after"), right.stdout + right.stderr
    output, _ = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 0, output
    assert "(from `drill answer`) Correct after" in output
    record = json.loads((tmp_path / "drill.json").read_text())
    assert record["hints_used"] == 1 and [g["correct"] for g in record["grades"]] == [False, True]
    gone = remote("hint")
    assert gone.returncode == 1 and "no drill is running" in gone.stderr


@pytest.mark.slow
def test_ctrl_c_stops_everything_and_still_writes_the_record(tmp_path: Path) -> None:
    proc = _drill(tmp_path, "--seed", "7")
    state = _wait_for(tmp_path / "state.json", proc)
    assert proc.stdin is not None
    proc.stdin.write("hint\n")
    proc.stdin.flush()
    time.sleep(5)  # the drill reads stdin every second
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=TIMEOUT_S)
    assert proc.returncode == 1, output
    assert "Traceback" not in output
    record = json.loads((tmp_path / "drill.json").read_text())
    assert record["outcome"] == "interrupted"
    assert record["timeline"][-1]["event"] == "interrupted (Ctrl-C)"
    assert record["hints_used"] == 1
    assert not _listening(_port(state["url"]))
