"""The opt-in live-attach override: it grants the api alone only what ``memray attach`` needs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
OVERRIDE = REPO / "compose.attach.yaml"


def test_override_validates_against_the_compose_specification() -> None:
    tool = Path(sys.executable).with_name("check-jsonschema")
    done = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(OVERRIDE)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_override_adds_only_ptrace_and_the_attach_image_to_the_api_alone() -> None:
    override = yaml.safe_load(OVERRIDE.read_text())
    assert set(override) == {"services"}
    assert set(override["services"]) == {"api"}
    api = override["services"]["api"]
    assert set(api) == {"build", "image", "cap_add"}
    assert api["cap_add"] == ["SYS_PTRACE"]
    assert api["build"] == {"context": "services/api", "target": "attach"}
    assert api["image"] != "leaklab-api:local"  # never overwrites the hardened image's tag


def test_default_stack_stays_hardened() -> None:
    stack = yaml.safe_load((REPO / "compose.yaml").read_text())
    for name, service in stack["services"].items():
        assert "SYS_PTRACE" not in service.get("cap_add", []), name
        assert not service.get("privileged"), name
        assert "target" not in (service.get("build") or {}), name


def test_the_default_image_carries_no_debugger_and_the_attach_stage_adds_gdb_and_memray() -> None:
    text = (REPO / "services" / "api" / "Dockerfile").read_text()
    dockerfile = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    stages = re.split(r"^FROM ", dockerfile, flags=re.MULTILINE)[1:]
    names = [stage.split("\n", 1)[0] for stage in stages]
    assert names[-1] == "base AS default", "the default (last) stage must be the hardened base"
    attach = next(stage for stage in stages if stage.startswith("base AS attach"))
    assert "gdb" in attach and "pip install --no-cache-dir -r requirements-attach.txt" in attach
    # lldb for when gdb cannot attach, under the plain name memray runs
    assert "lldb-19" in attach and re.search(r"ln -s /usr/bin/lldb-19 \S*/bin/lldb\b", attach)
    pinned = (REPO / "services" / "api" / "requirements-attach.txt").read_text()
    assert re.search(r"^memray==\d+\.\d+\.\d+", pinned, re.MULTILINE)
    assert re.findall(r"^USER\s+(\S+)", attach, re.MULTILINE)[-1] == "10001"
    base = stages[0]
    assert "gdb" not in base and "memray" not in base and "lldb" not in base


def test_make_lab_attach_uses_the_override_and_leaklab_attach() -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "-C", str(REPO), "lab-attach", "DURATION=5s", "NATIVE=1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "-f compose.yaml -f compose.attach.yaml up -d --build --wait api" in done.stdout
    assert "leaklab attach --compose --duration 5s --native" in done.stdout
