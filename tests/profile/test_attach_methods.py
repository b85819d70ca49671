"""How attach finds its ways in: Debian's lldb-NN handed to memray as plain ``lldb``, and the debugger's own words."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from leaklab.profile.attach.methods import debugger_cause, debugger_environment, versioned_lldb


def _tool(folder: Path, name: str, says: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(f"#!/bin/sh\necho {says}\n")
    path.chmod(0o755)
    return path


def test_the_newest_versioned_lldb_on_path_is_the_one_memray_gets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    _tool(old, "lldb-14", "lldb-14")
    _tool(new, "lldb-19", "lldb-19")
    _tool(new, "lldb-server-19", "not-a-debugger")
    monkeypatch.setenv("PATH", f"{old}{os.pathsep}{new}{os.pathsep}/bin")
    assert versioned_lldb() == new / "lldb-19"
    with debugger_environment() as env:
        shim = env["PATH"].split(os.pathsep)[0]
        said = subprocess.run(["lldb"], env=env, capture_output=True, text=True, check=True).stdout.strip()
        assert said == "lldb-19"
    assert not Path(shim).exists(), "the shim folder outlives the attach"


def test_a_plain_lldb_on_path_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tool(tmp_path, "lldb", "plain")
    _tool(tmp_path, "lldb-19", "versioned")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}/bin")
    with debugger_environment() as env:
        assert env["PATH"] == os.environ["PATH"]


def test_the_cause_is_the_debuggers_last_error_not_memrays_script() -> None:
    verbose = """Debugger command line: gdb -batch -p 42 -x=/m/_attach.gdb
debugger return code: 1
debugger output:
$1 = "MEMRAY: Attached to process."
(gdb) info sharedlibrary
warning: could not find '.gnu_debugaltlink' file for /lib/x86_64-linux-gnu/libc.so.6
/m/_attach.gdb:18: Error in sourced command file:
Couldn't write extended state status: Bad address.
"""
    assert debugger_cause(verbose) == "Couldn't write extended state status: Bad address"
    assert debugger_cause("memray said nothing of its debugger") is None
