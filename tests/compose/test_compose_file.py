"""compose.yaml held to the lab's rules, as far as a machine without a Docker engine can check them.

The Compose Specification schema (check-jsonschema), pinned images, loopback-only ports, the API's
memory limit and restart policy, Redis' bound, healthchecks behind every ``service_healthy``, mounts
that exist, variables the API and Locust know, every tunable documented in .env.example, and
Prometheus targets that name real services and ports.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

import pytest
import yaml

from leaklab_api.settings import Settings

from .dockerfiles import base_images

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "compose.yaml"
ENV_EXAMPLE = REPO / ".env.example"
EXACT_TAG = re.compile(r"^[a-z0-9][\w./-]*:v?\d+\.\d+\.\d+(-[a-z0-9.]+)?$")
# Services without a healthcheck, and why: nothing waits on them.
NO_HEALTHCHECK = {
    "redis-exporter": "a scratch image with no shell; Prometheus' up{job='redis'} shows it",
    "locust-worker": "no port of its own; the master's web UI lists connected workers",
}
VARIABLE = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


@cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def services() -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = compose()["services"]
    return result


def default(value: str) -> str:
    """``${VAR:-default}`` -> ``default``; plain values unchanged."""
    match = re.fullmatch(r"\$\{[A-Z0-9_]+:-([^}]*)\}", str(value))
    return match.group(1) if match else str(value)


def test_compose_file_validates_against_the_compose_specification() -> None:
    tool = Path(sys.executable).with_name("check-jsonschema")
    assert tool.exists(), f"{tool} is missing: make setup installs it (dev extra)"
    result = subprocess.run(
        [str(tool), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_lab_has_the_services_the_design_names() -> None:
    assert {"api", "redis", "redis-exporter", "prometheus", "grafana", "locust", "locust-worker"} <= set(services())


@pytest.mark.parametrize("name", sorted(yaml.safe_load(COMPOSE.read_text())["services"]))
def test_images_are_pinned_to_exact_versions(name: str) -> None:
    service = services()[name]
    if "build" in service:
        context = REPO / service["build"]["context"]
        bases = base_images(context / service["build"].get("dockerfile", "Dockerfile"))
        assert bases and all(EXACT_TAG.match(base) for base in bases), f"{name}: unpinned base image {bases}"
        assert service["image"].endswith(":local"), "a built image gets a local tag, never a registry one"
    elif service["image"].endswith(":local"):  # built by another service (pull_policy: never)
        assert any(other.get("image") == service["image"] and "build" in other for other in services().values())
    else:
        assert EXACT_TAG.match(service["image"]), f"{name}: {service['image']} is not pinned to an exact version"


def test_every_published_port_binds_to_loopback_and_redis_is_not_published() -> None:
    for name, service in services().items():
        for port in service.get("ports", []):
            assert isinstance(port, str) and port.startswith("127.0.0.1:"), f"{name} publishes {port}"
    assert "ports" not in services()["redis"]


def test_api_has_a_memory_limit_without_swap_and_restarts() -> None:
    api = services()["api"]
    assert api["restart"] == "unless-stopped"
    assert api["mem_limit"] == "${API_MEMORY_LIMIT:-256m}"
    assert api["memswap_limit"] == api["mem_limit"], "with swap the leak would swap instead of being OOM-killed"
    assert api["build"]["context"] == "services/api"
    env = api["environment"]
    assert env["LEAKLAB_HOST"] == "0.0.0.0"  # inside the network; published on 127.0.0.1 only
    assert default(env["LEAKLAB_CACHE_MODE"]) == "leaky"
    assert env["LEAKLAB_REDIS_URL"].startswith("redis://redis:")


def test_redis_is_bounded_with_allkeys_lru_and_no_persistence() -> None:
    command = services()["redis"]["command"]
    assert command[0] == "redis-server"
    flags = dict(zip(command[1::2], command[2::2], strict=True))
    assert default(flags["--maxmemory"]) == "64mb"
    assert flags["--maxmemory-policy"] == "allkeys-lru"
    assert flags["--save"] == "" and flags["--appendonly"] == "no"


def test_healthchecks_exist_and_every_dependency_waits_for_health() -> None:
    for name, service in services().items():
        if name in NO_HEALTHCHECK:
            continue
        test = service.get("healthcheck", {}).get("test")
        assert test and test[0] == "CMD", f"{name} has no exec-form healthcheck"
        assert "curl" not in test, f"{name}: curl is not in these images"
    for name, service in services().items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert rule["condition"] == "service_healthy", f"{name} -> {dependency}"
            assert dependency not in NO_HEALTHCHECK, f"{name} waits on {dependency}, which has no healthcheck"


def test_every_mounted_file_exists_in_the_repo() -> None:
    mounts = 0
    for name, service in services().items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (REPO / source).exists(), f"{name} mounts {source}, which is not in the repo"
                assert volume.endswith(":ro"), f"{name} mounts {source} writable"
                mounts += 1
            else:
                assert source in compose()["volumes"], f"{name}: unknown volume {source}"
    assert mounts >= 5


def test_every_leaklab_variable_is_a_setting_of_the_api() -> None:
    fields = {f"LEAKLAB_{name.upper()}" for name in Settings.model_fields}
    used = {var for service in services().values() for var in service.get("environment", {}) if "LEAKLAB_" in var}
    used |= {var for var in VARIABLE.findall(COMPOSE.read_text()) if var.startswith("LEAKLAB_")}
    assert used, "no LEAKLAB_* variables in compose.yaml"
    assert used <= fields, f"not fields of leaklab_api.settings.Settings: {sorted(used - fields)}"


def test_every_locust_variable_is_a_locust_option() -> None:
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import locust, json\n"
        "import locustfile, ramp, prometheus_exporter\n"
        "from locust.argument_parser import get_parser\n"
        "print(json.dumps(sorted({a.env_var for a in get_parser()._actions if getattr(a, 'env_var', None)})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "locustfiles")], capture_output=True, text=True, timeout=60, check=True
    )
    known = set(json.loads(result.stdout)) | {"LOCUST_USER_CLASSES"}  # read by locust's positional argument
    used = {
        var
        for name in ("locust", "locust-worker")
        for var in services()[name]["environment"]
        if var.startswith("LOCUST_")
    }
    assert used <= known, f"Locust does not read {sorted(used - known)}"


def test_every_tunable_is_documented_in_env_example_and_nothing_else() -> None:
    referenced = set(VARIABLE.findall(COMPOSE.read_text()))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert referenced - documented == set(), f"not in .env.example: {sorted(referenced - documented)}"
    assert documented - referenced == set(), f"in .env.example but unused: {sorted(documented - referenced)}"
    assert re.search(r"^GRAFANA_ADMIN_PASSWORD=$", ENV_EXAMPLE.read_text(), re.MULTILINE), "no default password"


def test_env_example_defaults_match_compose_defaults() -> None:
    defaults = dict(re.findall(r"\$\{([A-Z0-9_]+):-([^}]*)\}", COMPOSE.read_text()))
    documented = dict(re.findall(r"^([A-Z0-9_]+)=(.*)$", ENV_EXAMPLE.read_text(), re.MULTILINE))
    for name, value in defaults.items():
        assert documented[name] == value, f"{name}: .env.example says {documented[name]!r}, compose.yaml {value!r}"


def test_prometheus_targets_are_compose_services_on_their_ports() -> None:
    config = yaml.safe_load((REPO / "prometheus" / "prometheus.yml").read_text())
    ports = {
        "api": default(services()["api"]["environment"]["LEAKLAB_PORT"]),
        "redis-exporter": "9121",  # redis_exporter's default listen port
        "locust": default(services()["locust"]["environment"]["LOCUST_METRICS_PORT"]),
    }
    jobs = {}
    for job in config["scrape_configs"]:
        (static,) = job["static_configs"]
        jobs[job["job_name"]] = static["targets"]
    assert set(jobs) == {"api", "redis", "locust", "prometheus"}
    for job, targets in jobs.items():
        for target in targets:
            host, port = target.rsplit(":", 1)
            if job == "prometheus":
                assert (host, port) == ("localhost", "9090")
                continue
            assert host in services(), f"{job}: {host} is not a compose service"
            assert port == ports[host], f"{job}: {host} listens on {ports[host]}, not {port}"


def test_api_image_is_slim_non_root_and_runs_one_process() -> None:
    dockerfile = (REPO / "services" / "api" / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+\.\d+-slim", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in dockerfile
    assert 'CMD ["python", "-m", "leaklab_api"]' in dockerfile
    instructions = "\n".join(line for line in dockerfile.splitlines() if not line.lstrip().startswith("#"))
    assert "--workers" not in instructions
    text = (REPO / "services" / "api" / ".dockerignore").read_text()
    dockerignore = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert dockerignore[0] == "*" and "!leaklab_api/" in dockerignore


IMAGE_REQUIREMENTS = [
    "services/api/requirements.txt",
    "services/api/requirements-attach.txt",
    "locustfiles/requirements.txt",
]
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)(?:\s*;\s*([^#]+?))?\s*(?:#.*)?$", re.MULTILINE)


def pins(path: Path) -> dict[tuple[str, str], str]:
    """``(name, marker) -> version`` for every pinned line of a requirements or lock file."""
    return {(canonical(name), (marker or "").strip()): pinned for name, pinned, marker in PIN.findall(path.read_text())}


@pytest.mark.parametrize("path", IMAGE_REQUIREMENTS)
def test_image_requirements_pin_the_locks_versions_and_all_they_pull_in(path: str) -> None:
    image, lock = pins(REPO / path), pins(REPO / "requirements.lock")
    assert image, f"{path} pins nothing"
    for (name, _marker), pinned in image.items():
        versions = {locked for (other, _), locked in lock.items() if other == name}
        assert versions, f"{path}: {name} is not in requirements.lock (run make lock)"
        assert pinned in versions, f"{path}: {name}=={pinned}, requirements.lock has {sorted(versions)} (run make lock)"
    wanted = REPO / path.replace(".txt", ".in")
    named = {canonical(re.split(r"[\[<>=; ]", line, maxsplit=1)[0]) for line in wanted.read_text().splitlines()}
    named.discard("")
    missing = {name for name in named if not name.startswith("#")} - {name for name, _marker in image}
    assert not missing, f"{path} does not pin {sorted(missing)}, which {wanted.name} names (run make lock)"


def test_every_dockerfile_installs_only_pinned_requirements() -> None:
    for dockerfile in [REPO / "services/api/Dockerfile", REPO / "locustfiles/Dockerfile"]:
        installs = re.findall(r"pip install ([^\n&]+)", dockerfile.read_text())
        assert installs, dockerfile
        for line in installs:
            pinned_only = re.fullmatch(r"--no-cache-dir -r \S*requirements(-attach)?\.txt[\s\\]*", line)
            assert pinned_only, f"{dockerfile}: pip install {line}"


def test_api_image_requirements_cover_every_package_the_api_imports() -> None:
    package = REPO / "services" / "api" / "leaklab_api"
    modules: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    distributions = packages_distributions()
    needed = {canonical(dist) for module in modules for dist in distributions.get(module, [])}
    needed -= {"leaklab"}  # the package itself (installed editable here)
    text = (REPO / "services" / "api" / "requirements.txt").read_text()
    pinned = {canonical(name) for name in re.findall(r"^([A-Za-z0-9_.-]+)", text, re.MULTILINE)}
    assert needed, "found no third-party imports"
    assert needed <= pinned, f"the API imports {sorted(needed - pinned)}, which the image would not install"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
