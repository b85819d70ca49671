"""Locust as a child process: the repo's locustfile or the user's, headless (or its web UI), stats from its CSVs."""

from __future__ import annotations

import contextlib
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

from ..procs import LOOPBACK, Child, free_port

PROJECT = Path(__file__).resolve().parents[2]
LOCUSTFILE = PROJECT / "locustfiles" / "locustfile.py"
FLUSH_EVERY_SECOND = Path(__file__).resolve().parent / "locust_flush.py"
WEB_PORT = 8089


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """The load every mode gets: Locust users, spawn rate, user class, mean wait between requests.

    ``user_class`` empty: every user class of the locustfile (a user's own); ``wait_s`` None: the
    locustfile's users decide how long they wait (it takes no ``--wait-s``); ``extra_args``: the
    locustfile's own arguments.
    """

    duration_s: int
    users: int
    spawn_rate: float
    user_class: str
    wait_s: float | None
    web: bool = False
    locustfile: Path = LOCUSTFILE
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LiveStats:
    users: int
    rps: float
    fail_per_s: float
    requests: int
    failures: int


@dataclass(frozen=True, slots=True)
class FinalStats:
    requests: int
    failures: int
    rps: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    avg_ms: float | None
    errors: list[dict[str, object]]


class Locust(Child):
    """``locust`` driving ``host`` for the load's duration, then exiting by itself."""

    def __init__(self, log_dir: Path, csv_prefix: Path, host: str, load: LoadOptions) -> None:
        self.csv_prefix = csv_prefix
        self.web_url: str | None = None
        argv = [
            sys.executable, "-m", "locust", "-f", f"{load.locustfile},{FLUSH_EVERY_SECOND}",
            "-u", str(load.users), "-r", str(load.spawn_rate), "-t", f"{load.duration_s}s",
            "--host", host, "--csv", str(csv_prefix), "--only-summary", "--stop-timeout", "1",
            *(["--wait-s", str(load.wait_s)] if load.wait_s is not None else []), *load.extra_args,
        ]  # fmt: skip
        if load.web:
            port = WEB_PORT if _port_free(WEB_PORT) else free_port()
            self.web_url = f"http://{LOOPBACK}:{port}"
            argv += ["--web-host", LOOPBACK, "--web-port", str(port), "--autostart", "--autoquit", "0"]
        else:
            argv.append("--headless")
        if load.user_class:
            argv.append(load.user_class)
        super().__init__("locust", argv, log_dir / f"{csv_prefix.name}.log")

    def live(self) -> LiveStats | None:
        """The latest second of ``*_stats_history.csv`` (Locust appends a row per second)."""
        rows = self.history()
        if not rows:
            return None
        t1, requests, failures, users = rows[-1]
        rps = fail_per_s = 0.0
        if len(rows) >= 2:
            t0, r0, f0, _ = rows[-2]
            dt = max(t1 - t0, 1.0)
            rps, fail_per_s = (requests - r0) / dt, (failures - f0) / dt
        return LiveStats(users, rps, fail_per_s, requests, failures)

    def history(self) -> list[tuple[float, int, int, int]]:
        """``(unix time, total requests, total failures, users)`` per second, from ``*_stats_history.csv``."""
        rows: list[tuple[float, int, int, int]] = []
        with contextlib.suppress(OSError), Path(f"{self.csv_prefix}_stats_history.csv").open() as f:
            for row in csv.DictReader(f):
                if row.get("Name") == "Aggregated":
                    with contextlib.suppress(ValueError, KeyError, TypeError):
                        rows.append(
                            (
                                float(row["Timestamp"]),
                                int(row["Total Request Count"]),
                                int(row["Total Failure Count"]),
                                int(row["User Count"]),
                            )
                        )
        return rows

    def final(self) -> FinalStats | None:
        """Totals and latency percentiles from ``*_stats.csv``, errors from ``*_failures.csv``."""
        try:
            with Path(f"{self.csv_prefix}_stats.csv").open() as f:
                rows = [r for r in csv.DictReader(f) if r.get("Name") == "Aggregated"]
        except OSError:
            return None
        if not rows:
            return None
        row = rows[-1]
        errors: list[dict[str, object]] = []
        with contextlib.suppress(OSError), Path(f"{self.csv_prefix}_failures.csv").open() as f:
            for err in csv.DictReader(f):
                errors.append({"error": err.get("Error", ""), "occurrences": _int(err.get("Occurrences"))})
        errors.sort(key=lambda e: -int(str(e["occurrences"])))
        requests = _int(row.get("Request Count"))
        return FinalStats(
            requests=requests,
            failures=_int(row.get("Failure Count")),
            rps=_float(row.get("Requests/s")) or 0.0,
            p50_ms=_float(row.get("50%")) if requests else None,
            p95_ms=_float(row.get("95%")) if requests else None,
            p99_ms=_float(row.get("99%")) if requests else None,
            avg_ms=_float(row.get("Average Response Time")) if requests else None,
            errors=errors[:5],
        )


def _port_free(port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def _int(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "", "N/A") else None
    except ValueError:
        return None
