"""One lock: requirements.lock pins what .venv runs, within pyproject.toml's ranges, installed by make setup."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)(?:\s*;\s*([^#]+?))?\s*(?:#.*)?$", re.MULTILINE)


def locked() -> dict[str, str]:
    """``name -> version`` of the lock's pins that apply to this interpreter and platform."""
    pins: dict[str, str] = {}
    for name, pinned, marker in PIN.findall(LOCK.read_text()):
        if not marker or Marker(marker).evaluate():
            pins[canonicalize_name(name)] = pinned
    return pins


def test_the_tests_run_exactly_the_locked_versions() -> None:
    pins = locked()
    assert len(pins) > 50, "requirements.lock pins too little to be the whole environment"
    installed = 0
    for name, pinned in pins.items():
        try:
            have = version(name)
        except PackageNotFoundError:
            continue  # the build backend's own, only in pip's build environment
        installed += 1
        assert have == pinned, f".venv has {name} {have}, requirements.lock pins {pinned}: run make setup"
    assert installed >= len(pins) - 5


def test_the_lock_satisfies_every_range_in_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    wanted = project["project"]["dependencies"] + project["project"]["optional-dependencies"]["dev"]
    wanted += project["build-system"]["requires"]
    pins = locked()
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"pyproject.toml asks for {name}, which requirements.lock lacks: run make lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name} {pins[name]}, outside pyproject.toml's {requirement}: run make lock"
        )


def test_make_setup_installs_from_the_lock_and_only_make_lock_changes_it() -> None:
    makefile = (REPO / "Makefile").read_text()
    setup = makefile[makefile.index("$(STAMP): pyproject.toml $(LOCK)") :].split("\n\n", 1)[0]
    installs = [line for line in setup.splitlines() if "pip install" in line]
    assert installs and all("--constraint $(LOCK)" in line or "PIP_CONSTRAINT=" in line for line in installs)
    assert "--upgrade" not in setup
    for target in ("lock", "upgrade"):
        assert re.search(rf"^{target}: \$\(STAMP\)  ## ", makefile, re.MULTILINE), f"make {target} is missing"
