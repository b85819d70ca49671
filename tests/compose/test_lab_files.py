"""compose.yaml, the Dockerfiles and the lab's make targets, held to what a real start showed.

Each test here stands for something that broke or misled when the lab first ran on a Docker engine:
a build that fetched a frontend image from a registry, two services exporting the same image tag,
an unbounded wait, targets that failed without .env, a provisioning mount hiding the image's own
folders, ports written into the dashboard, stale image pins, and containers with more privilege than
they need. The stack itself runs in tests/stack/.
"""

from __future__ import annotations

import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .dockerfiles import base_images
from .make import make

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = [REPO / "services" / "api" / "Dockerfile", REPO / "locustfiles" / "Dockerfile"]

# The newest patch release of each pinned line, from upstream release data (checked 2026-11-30):
# docker-library/official-images#22049 (python 3.12.14, 2026-08-13), nextcloud-snap#3391 and
# docker-library/official-images#20849 (redis 8.2.5 after 8.2.4), voxpupuli/puppet-prometheus#1082
# and element-hq/ess-helm#1591 (redis_exporter v1.91.1; it ships one line, v1, with no patch
# branches), prometheus/prometheus#19621 (3.13.3, the 3.13 LTS line), grafana/grafana#124580
# (12.2.9, CVE-2026-41602) and the npm registry's @grafana/schema 12.2.10 (2026-09-29, published by
# the same release). A pin older than these is a line left behind.
NEWEST_PATCH = {
    "python": "3.12.14",
    "redis": "8.2.5",
    "oliver006/redis_exporter": "1.91.1",
    "prom/prometheus": "3.13.3",
    "grafana/grafana": "12.2.10",
}


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return data


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text))


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfiles_build_offline_without_a_frontend_image(path: Path) -> None:
    # A `# syntax=` parser directive makes BuildKit pull that frontend image before every build.
    assert not re.search(r"^#\s*syntax\s*=", path.read_text(), re.MULTILINE | re.IGNORECASE)


def test_each_built_image_is_built_by_one_service_and_never_pulled() -> None:
    services = compose()["services"]
    builders: dict[str, list[str]] = {}
    for name, service in services.items():
        if "build" in service:
            builders.setdefault(service["image"], []).append(name)
    assert builders and all(len(names) == 1 for names in builders.values()), builders
    for name, service in services.items():
        if "build" not in service and service["image"] in builders:
            assert service.get("pull_policy") == "never", f"{name} would try to pull {service['image']}"
            assert builders[service["image"]][0] in service.get("depends_on", {}), f"{name} may start before its build"


def test_image_pins_are_the_newest_patch_of_their_line() -> None:
    pins = [service["image"] for service in compose()["services"].values() if not service["image"].endswith(":local")]
    pins += [base for path in DOCKERFILES for base in base_images(path)]
    seen = set()
    for pin in pins:
        name, tag = pin.rsplit(":", 1)
        newest = NEWEST_PATCH[name]
        pinned = version_tuple(tag.split("-")[0])
        assert pinned[:2] == version_tuple(newest)[:2] or name == "oliver006/redis_exporter", f"{pin}: another line"
        assert pinned >= version_tuple(newest), f"{pin} is behind {newest}, the newest patch of its line"
        seen.add(name)
    assert seen == set(NEWEST_PATCH)
    assert "how and when" not in (REPO / "compose.yaml").read_text()  # the policy is written out, not referred to
    assert re.search(r"Bump them when", (REPO / "compose.yaml").read_text())


def test_every_service_is_hardened_in_compose() -> None:
    for name, service in compose()["services"].items():
        assert service.get("read_only") is True, f"{name}: root filesystem is writable"
        assert service.get("cap_drop") == ["ALL"], f"{name} keeps capabilities"
        assert "no-new-privileges:true" in service.get("security_opt", []), f"{name} may gain privileges"
        assert service.get("user") not in ("root", "0", "0:0"), name
    for path in DOCKERFILES:
        users = re.findall(r"^USER\s+(\S+)", path.read_text(), re.MULTILINE)
        assert users and users[-1] not in ("root", "0"), f"{path} runs as root"


def test_grafana_mounts_only_the_provisioning_folders_it_provides() -> None:
    grafana = compose()["services"]["grafana"]
    targets = {volume.split(":")[1]: volume.split(":")[0] for volume in grafana["volumes"] if volume.startswith("./")}
    assert "/etc/grafana/provisioning" not in targets, "hides the image's plugins/ and alerting/ folders"
    provided = sorted(p.name for p in (REPO / "grafana" / "provisioning").iterdir() if p.is_dir())
    for folder in provided:
        assert targets[f"/etc/grafana/provisioning/{folder}"] == f"./grafana/provisioning/{folder}"


def test_env_is_created_readable_by_its_owner_only(checkout: Path) -> None:
    result = make(checkout, "lab-env", f"PYTHON={sys.executable}")
    assert result.returncode == 0, result.stdout + result.stderr
    mode = stat.S_IMODE((checkout / ".env").stat().st_mode)
    assert mode == 0o600, f".env holds the Grafana admin password but has mode {oct(mode)}"


def test_the_printed_grafana_url_carries_the_ports_from_env(checkout: Path) -> None:
    (checkout / ".env").write_text("LOCUST_PORT=18089\nPROMETHEUS_PORT=19090\nGRAFANA_PORT=13000\n")
    result = make(checkout, "lab-urls")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "http://127.0.0.1:13000/d/leaklab/?var-locust_port=18089&var-prometheus_port=19090" in result.stdout
    assert "http://127.0.0.1:18089" in result.stdout and "http://127.0.0.1:19090" in result.stdout


def test_lab_up_waits_a_bounded_time_and_names_the_failing_service(checkout: Path) -> None:
    # make -n prints the recipe without running Docker.
    result = make(checkout, "-n", "lab-leaky", "LAB_WAIT_TIMEOUT=42")
    assert result.returncode == 0, result.stdout + result.stderr
    up = next(line for line in result.stdout.splitlines() if " up -d " in line)
    assert "--wait --wait-timeout 42" in up
    assert "logs --no-color --tail=" in result.stdout, "a failed start must show the failing service's log lines"


@pytest.mark.parametrize("target", ["lab-status", "lab-logs", "lab-down"])
def test_targets_that_only_read_or_stop_need_no_grafana_password(checkout: Path, target: str) -> None:
    result = make(checkout, "-n", target)
    assert result.returncode == 0, result.stdout + result.stderr
    compose_lines = [line for line in result.stdout.splitlines() if re.search(r"docker compose (ps|logs|down)", line)]
    assert compose_lines and all("GRAFANA_ADMIN_PASSWORD=" in line for line in compose_lines), compose_lines
