"""The engine and the lab checkout the stack test runs in, and the figures it reports at the end."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .engine import Engine, EngineUnavailable, existing_engine, start_own_engine
from .lab import Lab, compose_services
from .standins import CACHE, STANDIN_FOR, build_standins, pinned_images

# Filled in by the stack test as it goes (seconds, MiB, counts); printed at the end of the run.
FIGURES: dict[str, float | int | str] = {}
ENGINE_STARTED = time.monotonic()  # reset when the engine fixture starts


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The engine that answers, or (as root) a private one started for this run and removed after it."""
    global ENGINE_STARTED
    ENGINE_STARTED = time.monotonic()
    borrowed = existing_engine()
    if borrowed is not None:
        yield borrowed
        return
    try:
        own = start_own_engine(Path(tempfile.mkdtemp(prefix="leaklab-engine-", dir="/tmp")))
    except EngineUnavailable as exc:
        pytest.skip(f"no Docker engine for the stack test: {exc}")
    try:
        yield own
    finally:
        own.stop()


def provide_images(engine: Engine) -> list[str]:
    """Pull the pinned images; in an engine of our own, build stand-ins for those that cannot be pulled.

    Returns the services to leave out: those whose image is neither pullable nor has a stand-in.
    """
    missing = [image for image in pinned_images() if engine.docker("pull", "-q", image, timeout_s=300).returncode]
    if missing and engine.owned:
        FIGURES["stand-ins"] = ", ".join(build_standins(engine))
    elif missing:
        pytest.skip(f"cannot pull {missing}, and stand-ins are built only in an engine the test started itself")
    absent = [image for image in missing if STANDIN_FOR[image.rsplit(":", 1)[0]] is None]
    return [image.rsplit(":", 1)[0] for image in absent]


@pytest.fixture(scope="module")
def lab(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """A lab checkout with every service whose image is there; ``make lab-down`` after the module."""
    absent = provide_images(engine)
    images = {name: service["image"].rsplit(":", 1)[0] for name, service in compose_services().items()}
    services = [name for name, image in images.items() if image not in absent]
    FIGURES["services left out (no image, no stand-in)"] = ", ".join(sorted(set(images) - set(services))) or "none"
    lab = Lab.create(tmp_path_factory.mktemp("lab"), engine, services)
    try:
        yield lab
    finally:
        lab.make("lab-down", timeout_s=300)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("Compose lab stack test: figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "stack-figures.json").write_text(json.dumps(FIGURES, indent=2) + "\n")
