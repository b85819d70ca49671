"""Traffic for the leaklab API: the story's traffic and a realistic one.

- ``StoryUser``: ``GET /data`` with no key, so the API picks a fresh uuid per request: every request
  misses and, in leaky mode, adds one entry forever (the story's bug under ``ab -n 1000000``).
- ``RealisticUser``: ``GET /data?key=K`` with K drawn from a Zipf-like distribution over a bounded key
  space, so a few keys are hot and the hit ratio means something.

Both wait ``--wait-s`` seconds (mean) between requests; ``locustfiles/ramp.py`` adds a ramp shape
(``-f locustfile.py,ramp.py``) and ``--metrics-port`` serves Locust's stats to Prometheus
(``prometheus_exporter.py``).
"""

from __future__ import annotations

import bisect
import itertools
import random
from functools import cache

from locust import FastHttpUser, between, task

# isort: split
import prometheus_exporter  # noqa: F401  (registers --metrics-port: Locust stats for Prometheus)
from lab_options import add_options

add_options(
    ("--key-space", int, 1000, "RealisticUser: number of distinct keys"),
    ("--zipf-s", float, 1.1, "RealisticUser: skew of the key popularity (Zipf exponent; 0 = uniform)"),
    ("--wait-s", float, 0.5, "mean seconds each user waits between requests (0 = as fast as possible)"),
)


@cache
def _cumulative_weights(key_space: int, s: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank**s) for rank in range(1, key_space + 1)))


def zipf_key(rng: random.Random, key_space: int, s: float) -> str:
    """A key from ``key-0`` (hottest) to ``key-{key_space-1}``, drawn with Zipf exponent ``s``."""
    weights = _cumulative_weights(max(1, key_space), s)
    return f"key-{bisect.bisect_left(weights, rng.random() * weights[-1])}"


def wait_s(user: FastHttpUser) -> float:
    """A user's ``wait_time``: about ``--wait-s`` seconds (0.5x to 1.5x), or none at 0 (``paths.py`` uses it too)."""
    mean = float(getattr(user.environment.parsed_options, "wait_s", 0.5) or 0.0)
    return between(mean * 0.5, mean * 1.5)(user) if mean > 0 else 0.0


class StoryUser(FastHttpUser):
    """The story's traffic: no key, so every request gets a fresh uuid and misses."""

    wait_time = wait_s

    @task
    def data(self) -> None:
        self.client.get("/data", name="/data (fresh key)")


class RealisticUser(FastHttpUser):
    """Keys from a skewed distribution over a bounded key space: hot keys hit, the tail misses."""

    wait_time = wait_s

    def on_start(self) -> None:
        self.rng = random.Random()

    @task
    def data(self) -> None:
        options = self.environment.parsed_options
        key = zipf_key(self.rng, options.key_space, options.zipf_s)
        self.client.get(f"/data?key={key}", name="/data?key=[zipf]")
