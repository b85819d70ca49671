"""The local lab under faults: the API killed mid-run, ``leaklab run`` interrupted at each phase, and a
report directory that is read-only or fills up.

Expected every time: a clear line (never a traceback), no child process left behind, and no
half-written ``summary.json`` (it is written atomically), so ``leaklab report`` re-renders what was
recorded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from ..conftest import IN_CI


def start_run(out: Path, *args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "leaklab", "run", "--mode", "lru", "--out", str(out), "--no-alloc-sites", *args]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


class Family:
    """Every descendant of a ``leaklab run`` seen so far, so the test can check none outlives it."""

    def __init__(self, run: subprocess.Popen[str]) -> None:
        self.run = run
        self.seen: list[psutil.Process] = []

    def now(self) -> list[psutil.Process]:
        try:
            alive = psutil.Process(self.run.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        self.seen += [p for p in alive if p not in self.seen]
        return alive

    def running(self, word: str) -> list[psutil.Process]:
        """The descendants alive now whose command line contains ``word``."""
        found = []
        for proc in self.now():
            try:
                if any(word in part for part in proc.cmdline()):
                    found.append(proc)
            except psutil.Error:
                continue
        return found


def wait_until(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout_s}s")


def finish(family: Family) -> tuple[int, str]:
    """Wait for the run; every child it ever had must be gone (they are ended by PID if not)."""
    run = family.run
    try:
        _, stderr = run.communicate(timeout=90)
    finally:
        left = [p for p in family.seen if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        for proc in left:
            proc.kill()
    assert not left, f"children left behind: {[p.cmdline() for p in left]}"
    assert "Traceback" not in stderr, stderr
    return run.returncode, stderr


def summary_is_whole_or_absent(out: Path) -> dict[str, object] | None:
    assert not list(out.glob(".*.tmp")), "a temporary file was left behind"
    path = out / "summary.json"
    return json.loads(path.read_text()) if path.exists() else None  # json.loads fails on a half-written file


def rerenders(out: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "leaklab", "report", str(out)], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "report.html").exists()


@pytest.mark.slow
def test_the_api_killed_during_a_sample_is_restarted_and_recorded(tmp_path: Path) -> None:
    family = Family(start_run(tmp_path, "--duration", "8s"))
    wait_until(lambda: bool(family.running("locust")))
    time.sleep(2)  # load running, samples being taken
    (api,) = family.running("leaklab_api")
    api.kill()  # as the OOM killer does: SIGKILL
    code, _ = finish(family)
    assert code == 0
    lru = json.loads((tmp_path / "summary.json").read_text())["modes"]["lru"]
    assert lru["restarts"] >= 1 and any(e["kind"] == "killed" for e in lru["events"])
    rerenders(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("phase", "signum"),
    [("start-up", signal.SIGTERM), ("load", signal.SIGINT), ("report", signal.SIGINT)],
)
def test_run_interrupted_at_each_phase_leaves_nothing_behind(phase: str, signum: int, tmp_path: Path) -> None:
    family = Family(start_run(tmp_path, "--duration", "5s"))
    run = family.run
    if phase == "start-up":
        wait_until(lambda: bool(family.running("leaklab_api")))  # the API is starting, Locust not yet
        os.kill(run.pid, signum)
    elif phase == "load":
        wait_until(lambda: bool(family.running("locust")))
        time.sleep(2)
        os.kill(run.pid, signum)
    else:  # once Locust and the API are gone the report is being written: signal it until it is there
        wait_until(lambda: bool(family.running("locust")))
        wait_until(lambda: not family.running("locust") and not family.running("leaklab_api"), 60)
        while run.poll() is None and not (tmp_path / "report.html").exists():
            os.kill(run.pid, signum)
            time.sleep(0.02)
    code, _ = finish(family)
    summary = summary_is_whole_or_absent(tmp_path)
    if phase == "report":
        assert code in (0, 130) and summary is not None  # the report was finished, not cut in half
    else:
        assert code == 130
    if summary is not None:
        rerenders(tmp_path)


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """Mount small tmpfs filesystems (needs root); each is unmounted after the test."""
    mounted: list[Path] = []

    def mount(options: str) -> Path:
        where = tmp_path / f"fs{len(mounted)}"
        where.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True,
                              text=True, check=False)  # fmt: skip
        if done.returncode != 0:
            if IN_CI:
                raise AssertionError(f"cannot mount a tmpfs here: {done.stderr}")
            pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_report_directory_is_refused_before_anything_starts(mount_tmpfs: Callable[[str], Path]) -> None:
    read_only = mount_tmpfs("ro,size=1m")
    done = subprocess.run(
        [sys.executable, "-m", "leaklab", "run", "--mode", "lru", "--out", str(read_only / "report")],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Read-only file system" in lines[0], done.stderr


@pytest.mark.slow
def test_a_report_directory_that_fills_up_gives_a_clear_error_and_no_half_summary(
    mount_tmpfs: Callable[[str], Path],
) -> None:
    out = mount_tmpfs("size=160k") / "report"
    family = Family(start_run(out, "--duration", "4s"))
    wait_until(lambda: bool(family.running("locust")))
    code, stderr = finish(family)
    assert code == 1
    assert "could not write the report" in stderr and "No space left on device" in stderr, stderr
    summary_is_whole_or_absent(out)
