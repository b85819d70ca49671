"""The lab's make targets, as far as they run without Docker: the guard and the .env they write."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .make import REPO, make, new_checkout

LAB_TARGETS = ("lab-leaky", "lab-fixed", "lab-lru", "lab-down", "lab-status", "lab-logs")


def password(env_file: Path) -> str:
    match = re.search(r"^GRAFANA_ADMIN_PASSWORD=(.*)$", env_file.read_text(), re.MULTILINE)
    assert match, f"no GRAFANA_ADMIN_PASSWORD in {env_file}"
    return match.group(1)


def test_help_lists_every_lab_target() -> None:
    result = make(REPO, "help")
    assert result.returncode == 0, result.stderr
    listed = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    for target in LAB_TARGETS:
        assert re.search(rf"^\s+{target}\s+\S", listed, re.MULTILINE), f"make help does not list {target}"


@pytest.mark.parametrize("target", LAB_TARGETS)
def test_without_docker_each_lab_target_says_so_and_points_to_make_demo(checkout: Path, target: str) -> None:
    empty = checkout / "empty-bin"
    empty.mkdir()
    result = make(checkout, target, path=str(empty))
    assert result.returncode != 0
    assert "Docker is not installed" in result.stdout
    assert "make demo" in result.stdout
    assert not (checkout / ".env").exists(), "nothing should be written before the guard passes"


def test_without_compose_v2_the_guard_names_it(checkout: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        result = make(checkout, "lab-check")
        assert "Docker is not installed" in result.stdout and result.returncode != 0
        return
    compose = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30, check=False)
    result = make(checkout, "lab-check")
    if compose.returncode != 0:
        assert result.returncode != 0
        assert "Compose v2" in result.stdout and "make demo" in result.stdout
    else:  # a machine with Compose: the guard passes, or says the engine is not running
        assert result.returncode == 0 or "engine is not running" in result.stdout


def test_first_run_writes_env_with_a_random_grafana_password_and_keeps_it(checkout: Path) -> None:
    result = make(checkout, "lab-env", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stdout + result.stderr
    env_file = checkout / ".env"
    first = password(env_file)
    assert len(first) >= 20 and first != "admin"
    assert "Grafana admin password" in result.stdout and ".env" in result.stdout
    assert env_file.read_text().replace(first, "") == (checkout / ".env.example").read_text()

    again = make(checkout, "lab-env", f"PYTHON={sys.executable}")
    assert again.returncode == 0 and "password" not in again.stdout
    assert password(env_file) == first, "a second run must keep the password"


def test_an_existing_env_without_a_password_gets_one_and_keeps_the_rest(checkout: Path) -> None:
    (checkout / ".env").write_text("LOCUST_USERS=25\n")
    result = make(checkout, "lab-env", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stdout + result.stderr
    text = (checkout / ".env").read_text()
    assert text.startswith("LOCUST_USERS=25\n")
    assert len(password(checkout / ".env")) >= 20


def test_two_checkouts_get_different_passwords(tmp_path: Path) -> None:
    passwords = set()
    for name in ("a", "b"):
        workdir = new_checkout(tmp_path / name)
        assert make(workdir, "lab-env", f"PYTHON={sys.executable}").returncode == 0
        passwords.add(password(workdir / ".env"))
    assert len(passwords) == 2


def test_help_is_plain_text_in_a_pipe_and_coloured_only_on_a_terminal_without_no_color(tmp_path: Path) -> None:
    assert "\x1b[" not in make(REPO, "help").stdout  # a pipe: no escape codes
    listed = tmp_path / "help.txt"
    with listed.open("w") as file:  # a file: none either
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
        subprocess.run(["make", "-C", str(REPO), "help"], stdout=file, env=env, check=True, timeout=60)
    assert "lab-leaky" in listed.read_text() and "\x1b[" not in listed.read_text()
    script = shutil.which("script")  # util-linux: runs make on a pseudo-terminal
    if script is None:
        pytest.skip("script(1) is missing (util-linux)")  # a skip fails the run in CI
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    on_tty = subprocess.run(
        [script, "-qc", "make help", "/dev/null"], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert "\x1b[36m" in on_tty.stdout
    no_color = subprocess.run(
        [script, "-qc", "make help", "/dev/null"], cwd=REPO, env=env | {"NO_COLOR": "1"}, capture_output=True, text=True
    )
    assert "help" in no_color.stdout and "\x1b[" not in no_color.stdout
