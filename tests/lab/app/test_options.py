"""Bad input for your own service: one line naming the cause, exit 2, no traceback, before any load runs.

Through the real command (``leaklab run``), with small apps written for each case.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from leaklab.lab.app.options import interpreter
from leaklab.procs import LOOPBACK

from ..conftest import EXAMPLES

MAX_LINE_CHARS = 600  # a whole last-lines-of-the-log line still reads as one line


def run(*args: str | Path, cwd: Path | None = None) -> str:
    """``leaklab run ARGS`` that must fail: its one error line."""
    done = subprocess.run(
        [sys.executable, "-m", "leaklab", "run", "--duration", "5s", *map(str, args)],
        capture_output=True, text=True, timeout=120, check=False, cwd=cwd,
    )  # fmt: skip
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0] == done.stderr.strip().splitlines()[-1], done.stderr
    assert errors[0].startswith("leaklab run: error: ") and len(errors[0]) <= MAX_LINE_CHARS, errors[0]
    return errors[0].removeprefix("leaklab run: error: ")


def test_a_module_that_cannot_be_imported_is_named_with_the_import_errors_own_line(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text("from fastapi import FastAPI\nimport no_such_dependency\napp = FastAPI()\n")
    line = run("--app", "shop:app", "--app-dir", tmp_path, "--out", tmp_path / "out")
    assert line == (
        "cannot import 'shop': ModuleNotFoundError: No module named 'no_such_dependency' "
        "(shop.py:2: import no_such_dependency)"
    )


def test_a_module_that_is_not_there_names_the_folder_it_looked_in(tmp_path: Path) -> None:
    line = run("--app", "mian:app", "--app-dir", tmp_path, "--out", tmp_path / "out")
    assert line == f"cannot import 'mian': no module named 'mian' in --app-dir {tmp_path.resolve()}"


def test_an_attribute_that_is_not_an_app_says_what_it_is(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text("settings = {'debug': True}\n\ndef create_app():\n    return None\n")
    line = run("--app", "shop:settings", "--app-dir", tmp_path, "--out", tmp_path / "out")
    assert line.startswith("shop:settings is a dict, not an ASGI or WSGI app")
    line = run("--app", "shop:create_app", "--app-dir", tmp_path, "--out", tmp_path / "out")
    assert line.startswith("shop:create_app is a function taking no arguments, not an ASGI or WSGI app")
    line = run("--app", "shop:missing", "--app-dir", tmp_path, "--out", tmp_path / "out")
    assert line == "module 'shop' has no attribute 'missing'"


def test_an_app_that_crashes_at_start_up_shows_its_last_log_lines(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(
        "from contextlib import asynccontextmanager\n"
        "from fastapi import FastAPI\n\n"
        "@asynccontextmanager\n"
        "async def lifespan(app):\n"
        "    raise RuntimeError('DATABASE_URL is not set')\n"
        "    yield\n\n"
        "app = FastAPI(lifespan=lifespan)\n"
    )
    line = run("--app", "shop:app", "--app-dir", tmp_path, "--out", tmp_path / "out")
    assert line.startswith("shop:app failed at start-up; its last log lines: "), line
    assert "RuntimeError: DATABASE_URL is not set" in line
    assert f"(log: {tmp_path / 'out' / 'logs'}/app-shop-app-" in line  # the whole log is kept


def test_an_asgi_app_in_an_environment_without_uvicorn_is_told_what_to_install(
    tmp_path: Path, bare_python: Path
) -> None:
    (tmp_path / "tiny.py").write_text("async def app(scope, receive, send):\n    pass\n")
    line = run("--app", "tiny:app", "--app-dir", tmp_path, "--python", bare_python, "--out", tmp_path / "out")
    assert line.startswith(f"the app is ASGI and {bare_python} has no uvicorn to serve it: install uvicorn"), line


def test_a_locustfile_without_a_user_class_is_refused(tmp_path: Path) -> None:
    (tmp_path / "load.py").write_text("from locust import HttpUser, task\n")
    line = run("--app", "app:app", "--app-dir", EXAMPLES / "fastapi_gc_cycles", "--locustfile", tmp_path / "load.py")
    assert line.startswith(f"--locustfile {tmp_path / 'load.py'} defines no Locust user class")


def test_a_locustfile_that_does_not_load_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "load.py").write_text("from locust import HttpUser\nimport no_such_helper\n")
    line = run("--app", "app:app", "--app-dir", EXAMPLES / "fastapi_gc_cycles", "--locustfile", tmp_path / "load.py")
    assert line.endswith("No module named 'no_such_helper' (load.py:2: import no_such_helper)"), line


def test_a_port_in_use_is_refused_with_who_holds_it() -> None:
    with socket.socket() as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = run("--app", "app:app", "--app-dir", EXAMPLES / "fastapi_gc_cycles", "--port", str(port))
    assert line.startswith(f"--port {port} is in use (by PID "), line


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--app", "main"], "argument --app: must be MODULE:ATTR, e.g. main:app"),
        (["--cmd", "gunicorn app:app"], "argument --cmd: must say where the port goes with {port}"),
        (["--cmd", "no-such-server --port {port}"], "--cmd: 'no-such-server' was not found on PATH"),
        (["--app", "app:app", "--python", "/no/such/python"], "--python /no/such/python: not an executable file"),
        (["--app", "app:app", "--path", "orders"], "argument --path: must be a path starting with /"),
        (["--mode", "lru", "--path", "/x"], "--path needs --app or --cmd"),
        (["--app", "app:app", "--mode", "lru"], "--app/--cmd run your own service: leave out --mode and --scenario"),
        (["--app", "app:app", "--user-class", "RealisticUser"], "--api-arg and --user-class are for the lab's API"),
    ],
)
def test_flags_for_your_service_are_checked_before_anything_starts(args: list[str], expected: str) -> None:
    assert run(*args, cwd=EXAMPLES / "fastapi_gc_cycles").startswith(expected)


def test_the_interpreter_is_the_apps_own_virtualenv_when_it_has_one(tmp_path: Path, bare_python: Path) -> None:
    assert interpreter(None, tmp_path) == Path(sys.executable).absolute()  # no .venv: the Python running leaklab
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "python").symlink_to(bare_python)
    assert interpreter(None, tmp_path) == tmp_path / ".venv" / "bin" / "python"
