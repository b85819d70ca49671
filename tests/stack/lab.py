"""The Compose lab as a user drives it: a checkout with its own .env, the make targets, and what the
user then looks at (Locust's web UI, Prometheus, the API, ``docker inspect``), all over loopback.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml

from leaklab.procs import free_port

from .engine import Engine

REPO = Path(__file__).resolve().parents[2]
# What a lab checkout needs; the rest of the repository plays no part in the Compose lab.
LAB_FILES = ["Makefile", "compose.yaml", ".env.example", "services/api", "locustfiles", "prometheus", "grafana"]
T = TypeVar("T")


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    return services


def copy_checkout(target: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "generated")
    for name in LAB_FILES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    return target


def wait_until(what: str, check: Callable[[], T | None], timeout_s: float, interval_s: float = 2.0) -> T:
    """Poll ``check`` until it returns something other than None (or False); fail naming ``what``."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = check()
        except OSError:
            value = None
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(interval_s)


def http_json(url: str, data: dict[str, str] | None = None, timeout_s: float = 10) -> Any:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=timeout_s) as response:
        return json.load(response)


@dataclass
class Lab:
    """A lab checkout on an engine: its make targets, its project's containers and its published ports."""

    workdir: Path
    engine: Engine
    project: str
    services: list[str]
    ports: dict[str, int]

    @classmethod
    def create(cls, workdir: Path, engine: Engine, services: list[str]) -> Lab:
        ports = {name: free_port() for name in ("API_PORT", "LOCUST_PORT", "PROMETHEUS_PORT", "GRAFANA_PORT")}
        return cls(copy_checkout(workdir), engine, f"leaklab-stacktest-{workdir.name[-8:].lower()}", services, ports)

    def make(self, target: str, *args: str, timeout_s: float = 900) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in self.engine.env.items() if not k.startswith(("MAKE", "LEAKLAB_", "LOCUST_"))}
        env["COMPOSE_PROJECT_NAME"] = self.project  # never the name of a user's own lab
        argv = ["make", "--no-print-directory", "-C", str(self.workdir), target]
        argv += [f"COMPOSE={self.engine.compose}", f"LAB_SERVICES={' '.join(self.services)}", *args]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, env=env, check=False)

    def write_env(self, **settings: str | int) -> None:
        """``.env`` as a user edits it: .env.example's documented variables with some values changed."""
        values = {**self.ports, **settings}
        env_file = self.workdir / ".env"
        password = [ln for ln in env_file.read_text().splitlines() if ln.startswith("GRAFANA_ADMIN_PASSWORD=")]
        lines = []
        for line in (self.workdir / ".env.example").read_text().splitlines():
            name = line.split("=", 1)[0]
            if name == "GRAFANA_ADMIN_PASSWORD":
                lines += password
            else:
                lines.append(f"{name}={values.pop(name)}" if "=" in line and name in values else line)
        assert not values, f"not documented in .env.example: {sorted(values)}"
        env_file.write_text("\n".join(lines) + "\n")  # keeps the file's mode (0600)

    def env_value(self, name: str) -> str:
        for line in (self.workdir / ".env").read_text().splitlines():
            if line.startswith(f"{name}="):
                return line.split("=", 1)[1]
        raise KeyError(name)

    # --- what docker shows -------------------------------------------------------------------------------------
    def containers(self, *filters: str) -> list[dict[str, Any]]:
        listed = self.engine.docker(
            "ps", "-aq", "--filter", f"label=com.docker.compose.project={self.project}", *filters
        )
        ids = listed.stdout.split()
        if not ids:
            return []
        result = self.engine.docker("inspect", *ids)
        assert result.returncode == 0, result.stderr
        inspected: list[dict[str, Any]] = json.loads(result.stdout)
        return inspected

    def container(self, service: str) -> dict[str, Any]:
        (found,) = self.containers("--filter", f"label=com.docker.compose.service={service}")
        return found

    def leftovers(self) -> dict[str, list[str]]:
        label = f"label=com.docker.compose.project={self.project}"
        return {
            kind: self.engine.docker(*command, "--filter", label).stdout.split()
            for kind, command in {
                "containers": ("ps", "-aq"),
                "networks": ("network", "ls", "-q"),
                "volumes": ("volume", "ls", "-q"),
            }.items()
        }

    # --- what the user opens in a browser ---------------------------------------------------------------------
    def url(self, port: str, path: str) -> str:
        return f"http://127.0.0.1:{self.ports[port]}{path}"

    def prometheus(self, expr: str) -> list[dict[str, Any]]:
        body = http_json(self.url("PROMETHEUS_PORT", "/api/v1/query?" + urllib.parse.urlencode({"query": expr})))
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def value(self, expr: str) -> float | None:
        result = self.prometheus(expr)
        return float(result[0]["value"][1]) if result else None

    def locust_stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = http_json(self.url("LOCUST_PORT", "/stats/requests"))
        return stats

    def locust_failures(self) -> int:
        return sum(s["num_failures"] for s in self.locust_stats()["stats"] if s["name"] == "Aggregated")

    def api_metric(self, name: str) -> float:
        with urllib.request.urlopen(self.url("API_PORT", "/metrics"), timeout=10) as response:
            text = response.read().decode()
        values = [float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")]
        return sum(values)
