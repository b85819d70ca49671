"""The options ``leaklab run`` and ``leaklab compare`` share: the load, the memory limit and the services.

``LabOptions`` is what each mode of a run gets; ``settings_of`` is how the report records them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..args import duration, number, parse_size, redis_size, shown
from ..units import MIB, mib
from .limits import MECHANISMS
from .load import LOCUSTFILE, LoadOptions

MODES = ("leaky", "lru", "redis")
USER_CLASSES = ("StoryUser", "RealisticUser")
MIN_LIMIT = 64 * MIB


def memory_limit(text: str) -> int:
    size = parse_size(text)
    if size < MIN_LIMIT:
        raise argparse.ArgumentTypeError(f"--mem-limit {shown(text)} is below 64M: the API alone needs about 60 MiB")
    return size


def add_lab_options(parser: argparse.ArgumentParser) -> None:
    load = parser.add_argument_group("load (Locust)")
    load.add_argument("--duration", type=duration(3, 24 * 3600), default="50s", help="load time per mode (default 50s)")
    load.add_argument("--users", type=number(int, 1), default=10, help="Locust users (default 10)")
    load.add_argument("--spawn-rate", type=number(float, 0), default=10.0, help="users started per second")
    load.add_argument("--user-class", choices=USER_CLASSES, default="StoryUser", help="traffic (default StoryUser)")
    load.add_argument(
        "--wait-s", type=number(float, 0), default=0.1, help="mean wait between a user's requests, 0 = flat out"
    )
    load.add_argument("--web", action="store_true", help="Locust's web UI on 127.0.0.1:8089 while it runs")
    load.add_argument(
        "--locustfile",
        type=Path,
        help="--app/--cmd: your own locustfile; every user class in it runs, with its own wait_time (not --wait-s)",
    )
    lab = parser.add_argument_group("memory limit and services")
    lab.add_argument("--mem-limit", type=memory_limit, default="192M", help="API memory limit (default 192M)")
    lab.add_argument(
        "--limit-mechanism",
        choices=MECHANISMS,
        default="auto",
        help="auto: cgroup filesystem, else systemd-run scope, else a watchdog (default auto)",
    )
    lab.add_argument(
        "--redis-maxmemory", type=redis_size, default="64mb", help="redis-server --maxmemory (default 64mb, as Compose)"
    )
    lab.add_argument("--no-alloc-sites", action="store_true", help="skip the tracemalloc recording of allocation sites")
    lab.add_argument(
        "--api-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra flag for leaklab api, e.g. --api-arg=--lru-max-entries=500",
    )
    parser.add_argument("--out", type=Path, help="report directory (default reports/<time>-<name>)")


@dataclass(frozen=True, slots=True)
class LabOptions:
    """Everything that is the same for each mode of a run or a comparison."""

    load: LoadOptions
    mem_limit_bytes: int
    mechanism: str = "auto"
    redis_maxmemory: str = "64mb"
    alloc_sites: bool = True
    api_args: tuple[str, ...] = ()
    tolerance_mib_per_min: float | None = None  # the verdict's tolerance (leaklab check --max-growth-mib-per-min)


def lab_options(args: argparse.Namespace) -> LabOptions:
    load = LoadOptions(
        duration_s=args.duration,
        users=args.users,
        spawn_rate=args.spawn_rate,
        user_class=args.user_class,
        wait_s=args.wait_s,
        web=args.web,
        locustfile=args.locustfile or LOCUSTFILE,
    )
    return LabOptions(
        load=load,
        mem_limit_bytes=args.mem_limit,
        mechanism=args.limit_mechanism,
        redis_maxmemory=args.redis_maxmemory,
        alloc_sites=not args.no_alloc_sites,
        api_args=tuple(args.api_arg),
        tolerance_mib_per_min=getattr(args, "max_growth_mib_per_min", None),
    )


def settings_of(opts: LabOptions, modes: Sequence[str], argv: Sequence[str]) -> dict[str, Any]:
    load = asdict(opts.load)
    load["locustfile"] = str(opts.load.locustfile)
    return {
        "modes": list(modes),
        "load": load,
        "mem_limit": mib(opts.mem_limit_bytes, 0),
        "mem_limit_bytes": opts.mem_limit_bytes,
        "limit_mechanism_requested": opts.mechanism,
        "redis_maxmemory": opts.redis_maxmemory,
        "alloc_sites": opts.alloc_sites,
        "api_args": list(opts.api_args),
        "tolerance_mib_per_min": opts.tolerance_mib_per_min,
        "command": " ".join(["leaklab", *argv]),
    }
