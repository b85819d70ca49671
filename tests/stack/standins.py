"""Stand-ins for the lab's pinned upstream images, built from Debian packages when no registry answers.

Only ever inside an engine the test started itself: a minimal Debian is bootstrapped with
``debootstrap`` together with the Debian packages the stand-ins run (one bootstrap is much faster
than an ``apt-get`` in each image build; the tarball is cached under ``~/.cache/leaklab/stack/`` for reruns),
imported as a base image with this machine's CA bundle, and each stand-in
(``tests/stack/standins/<name>/Dockerfile``: the upstream image's user, paths and entrypoint) is
built FROM it and tagged with the exact name compose.yaml or a Dockerfile pins, so compose.yaml
stays written for real images. Grafana has no Debian package: it has no stand-in, and the stack
test leaves it out.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from ..compose.dockerfiles import base_images
from .engine import APT_INSTALL, Engine, run

REPO = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
# the user cache, as pip keeps its own: every clone on the machine reuses one tarball
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "leaklab" / "stack"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Upstream image name -> stand-in folder; None: no stand-in (the test leaves that service out).
STANDIN_FOR = {
    "redis": "redis",
    "oliver006/redis_exporter": "redis_exporter",
    "prom/prometheus": "prometheus",
    "python": "python",
    "grafana/grafana": None,
}
# What the stand-ins run: Debian's redis-server, prometheus (with wget for its healthcheck),
# prometheus-redis-exporter, and python3 with pip for python:3.12.x-slim.
DEBIAN_PACKAGES = [
    "redis-server",
    "prometheus",
    "wget",
    "prometheus-redis-exporter",
    "python3",
    "python3-pip",
    "python-is-python3",
]
DOCKERFILES = [REPO / "services" / "api" / "Dockerfile", REPO / "locustfiles" / "Dockerfile"]


def pinned_images() -> list[str]:
    """Every upstream image the lab names: compose.yaml's pulled images and the Dockerfiles' bases."""
    services = yaml.safe_load((REPO / "compose.yaml").read_text())["services"]
    images = [s["image"] for s in services.values() if "build" not in s and not s["image"].endswith(":local")]
    for path in DOCKERFILES:
        images += base_images(path)
    return sorted(set(images))


def codename() -> str:
    for line in Path("/etc/os-release").read_text().splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip('"')
    raise RuntimeError("no VERSION_CODENAME in /etc/os-release: the stand-ins need a Debian host")


def debian_tarball(suite: str) -> Path:
    """A minbase Debian root filesystem as a tarball, bootstrapped once and cached."""
    tarball = CACHE / f"debian-{suite}-minbase-{hashlib.sha256(' '.join(DEBIAN_PACKAGES).encode()).hexdigest()[:8]}.tar"
    if tarball.exists():
        return tarball
    if not shutil.which("debootstrap"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        result = run([*APT_INSTALL, "debootstrap"], 900, env)
        assert result.returncode == 0, f"apt-get install debootstrap failed: {result.stderr[-500:]}"
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="leaklab-rootfs-") as rootfs:
        include = "--include=" + ",".join(DEBIAN_PACKAGES)
        result = run(["debootstrap", "--variant=minbase", include, suite, rootfs, DEBIAN_MIRROR], 900)
        assert result.returncode == 0, f"debootstrap failed: {result.stdout[-1500:]}{result.stderr[-500:]}"
        partial = tarball.with_suffix(".tmp")
        # Downloaded packages and index files are not needed in the images: ~120 MB less to import.
        excludes = ["--exclude=./var/cache/apt/archives/*.deb", "--exclude=./var/lib/apt/lists/*"]
        subprocess.run(["tar", "-C", rootfs, *excludes, "-cf", str(partial), "."], check=True, timeout=300)
        partial.rename(tarball)
    return tarball


def import_base(engine: Engine, suite: str) -> str:
    """The Debian base image with this machine's CA bundle (builds that download over TLS need it)."""
    tag = f"leaklab-standin-base:{suite}"
    result = engine.docker("import", str(debian_tarball(suite)), f"{tag}-rootfs", timeout_s=600)
    assert result.returncode == 0, result.stderr
    with tempfile.TemporaryDirectory(prefix="leaklab-base-") as context:
        shutil.copy(HOST_CA_BUNDLE, Path(context) / "ca-certificates.crt")
        (Path(context) / "Dockerfile").write_text(
            f'FROM {tag}-rootfs\nCOPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\nCMD ["bash"]\n'
        )
        result = engine.docker("build", "-q", "-t", tag, context, timeout_s=600)
        assert result.returncode == 0, result.stderr
    return tag


def build_standins(engine: Engine) -> list[str]:
    """Build and tag a stand-in for every pinned image that has one; returns the tags built."""
    assert engine.owned, "stand-ins are built only inside an engine the test started itself"
    base = import_base(engine, codename())
    wanted = [(image, STANDIN_FOR[image.rsplit(":", 1)[0]]) for image in pinned_images()]

    def build(image: str, folder: str) -> str:
        result = engine.docker(
            "build", "-q", "--build-arg", f"BASE={base}", "-t", image, str(STANDINS / folder), timeout_s=900
        )
        assert result.returncode == 0, f"stand-in for {image} did not build:\n{result.stderr[-2000:]}"
        return image

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(build, image, folder) for image, folder in wanted if folder is not None]
        return [future.result() for future in futures]
