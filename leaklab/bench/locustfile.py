"""Benchmark load when wrk is missing: each user GETs one path back to back, no wait (FastHttpUser)."""

from __future__ import annotations

from typing import Any

from locust import FastHttpUser, events, task


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _add_arguments(parser: Any) -> None:
    parser.add_argument("--bench-path", default="/data", help="path every request GETs")


class BackToBackUser(FastHttpUser):
    """Requests one path as fast as the server answers, like one wrk connection."""

    @task
    def get(self) -> None:
        self.client.get(self.environment.parsed_options.bench_path, name="bench")
