"""The repo's Prometheus config with its targets pointed at loopback processes, and a Prometheus to run it.

The Compose lab's ``prometheus/prometheus.yml`` is the one source of truth: only ``static_configs``
(and the intervals, so a test sees data within seconds) change; job names, rule files and rules stay.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from leaklab.procs import Child, free_port, require

REPO = Path(__file__).resolve().parents[2]
PROMETHEUS_DIR = REPO / "prometheus"
CONFIG = PROMETHEUS_DIR / "prometheus.yml"


def repo_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    return config


def loopback_config(targets: dict[str, list[str]], interval: str = "1s") -> dict[str, Any]:
    """The repo's config with each job's targets replaced by ``targets[job]`` (every job must be given)."""
    config = repo_config()
    config["global"]["scrape_interval"] = interval
    config["global"]["evaluation_interval"] = interval
    config["rule_files"] = [str(PROMETHEUS_DIR / pattern) for pattern in config["rule_files"]]
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    if jobs != set(targets):
        raise ValueError(f"targets for jobs {sorted(targets)} do not match the config's jobs {sorted(jobs)}")
    for job in config["scrape_configs"]:
        job["static_configs"] = [{"targets": targets[job["job_name"]]}]
    return config


class PrometheusServer(Child):
    """A ``prometheus`` on a free loopback port with its own storage directory."""

    def __init__(self, workdir: Path, config: dict[str, Any], port: int | None = None) -> None:
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        argv = [
            require("prometheus"),
            f"--config.file={config_path}",
            f"--storage.tsdb.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]
        super().__init__("prometheus", argv, workdir / "prometheus.log")
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 20.0) -> None:
        self.wait_http(self.port, "/-/ready", timeout_s)

    def api(self, path: str, **params: str) -> Any:
        """GET ``/api/v1/<path>``; returns ``data`` or raises with Prometheus' error message."""
        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                body = json.load(response)
        except urllib.error.HTTPError as exc:
            body = json.load(exc)
        if body.get("status") != "success":
            raise PromQLError(f"{params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.api("query", query=expr)
        result: list[dict[str, Any]] = data["result"] if data["resultType"] in ("vector", "matrix") else [data]
        return result


class PromQLError(AssertionError):
    """Prometheus rejected a query or failed to evaluate it."""
