"""The system packages each make target needs: installed by the target itself, or named with the command to run."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAKE = shutil.which("make")

# target: the Debian packages it starts (and so must install or name)
NEEDS = {
    "demo": ("redis-server",),
    "run MODE=redis": ("redis-server",),
    "profile MODE=redis": ("redis-server",),
    "bench": ("redis-server", "wrk", "nodejs", "npm"),
    "soak": ("redis-server",),
    "attach": ("gdb", "lldb-19"),
    "test": (
        "redis-server",
        "wrk",
        "nodejs",
        "npm",
        "prometheus",
        "prometheus-redis-exporter",
        "chromium",
        "gdb",
        "lldb-19",
        "docker.io",
        "debootstrap",
    ),
}


def make(
    *args: str, cwd: Path = REPO, path: str | None = None, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    assert MAKE, "make is missing"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    if path is not None:
        env["PATH"] = path
    argv = [MAKE, "--no-print-directory", "-C", str(cwd), *args]
    if user is not None:
        runuser = shutil.which("runuser") or shutil.which("runuser", path="/usr/sbin:/sbin")
        assert runuser, "runuser (util-linux) is missing"
        argv = [runuser, "-u", user, "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, check=False)


@pytest.mark.parametrize("target", NEEDS)
def test_each_target_installs_the_packages_it_starts_before_it_runs(target: str) -> None:
    # `make -n` prints every recipe the target would run, in order, without running any.
    plan = make("-n", "-W", "pyproject.toml", *target.split())
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.splitlines()
    install = [i for i, line in enumerate(lines) if "apt-get" in line and "install -y" in line]
    assert install, f"make {target} never installs its system packages:\n{plan.stdout}"
    step = lines[install[0]]
    for package in NEEDS[target]:
        assert f":{package}" in step, f"make {target} does not install {package}: {step}"
    if target != "test":
        main = next(i for i, line in enumerate(lines) if "/leaklab " in line)
        assert install[0] < main, f"make {target} runs before its packages are installed"


def _bin_without(tmp_path: Path, keep: tuple[str, ...]) -> str:
    """A PATH holding only ``keep`` (real binaries, linked), so every other command is 'not installed'."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in keep:
        found = shutil.which(name)
        if found:
            (bin_dir / name).symlink_to(found)
    bin_dir.chmod(0o755)
    tmp_path.chmod(0o755)
    return str(bin_dir)


def test_without_a_package_manager_the_lab_names_what_is_missing_and_goes_on(tmp_path: Path) -> None:
    result = make("deps-lab", path=_bin_without(tmp_path, ()))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().splitlines() == [
        "missing: redis-server (no apt-get here: install them with your package manager;"
        " the lab runs the modes it can without them)"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run make as an unprivileged user")
def test_a_user_who_cannot_install_gets_one_line_with_the_exact_command() -> None:
    # apt-get is there, redis-server is not, and 'nobody' has no sudo: the lab must not stop, only say what to run.
    # pytest's own tmp folders are private to root, so this PATH lives in a folder 'nobody' may enter.
    with tempfile.TemporaryDirectory() as shared:
        result = make("deps-lab", path=_bin_without(Path(shared), ("apt-get", "id")), user="nobody")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.stdout
    assert "missing system packages: redis-server" in lines[0]
    assert "sudo apt-get install redis-server" in lines[0]


def test_nothing_is_installed_or_printed_when_everything_is_there(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    # Only presence on PATH is checked; a present redis-server is never reinstalled.
    real = shutil.which("redis-server") or shutil.which("true")
    assert real
    (fake / "redis-server").symlink_to(real)
    result = make("deps-lab", path=str(fake))
    assert result.returncode == 0 and result.stdout == "", result.stdout
