"""A ramp: users grow linearly to a peak, hold there, then the test stops by itself.

Use it beside the users: ``locust -f locustfile.py,ramp.py`` (in the Compose lab set
``LOCUST_LOCUSTFILE=locustfile.py,ramp.py`` in ``.env``). With a shape, the web UI's user count and
spawn rate are replaced by ``--ramp-users``, ``--ramp-up-s`` and ``--ramp-hold-s``, and the memory
curve shows the leak rate rising with the load, the way a campaign's traffic grows in the story.
"""

from __future__ import annotations

import math

from locust import LoadTestShape

# isort: split
from lab_options import add_options

add_options(
    ("--ramp-users", int, 20, "RampShape: users at the top of the ramp"),
    ("--ramp-up-s", float, 180.0, "RampShape: seconds from 0 to --ramp-users"),
    ("--ramp-hold-s", float, 600.0, "RampShape: seconds to hold the peak before stopping (0 = hold until stopped)"),
)


def ramp_users(elapsed_s: float, peak: int, ramp_up_s: float) -> int:
    """Users wanted ``elapsed_s`` seconds into the ramp: at least one, at most ``peak``."""
    if ramp_up_s <= 0:
        return peak
    return max(1, min(peak, math.ceil(peak * elapsed_s / ramp_up_s)))


class RampShape(LoadTestShape):
    """Linear ramp to ``--ramp-users`` over ``--ramp-up-s``, hold ``--ramp-hold-s``, then stop."""

    use_common_options = False

    def tick(self) -> tuple[int, float] | None:
        options = self.runner.environment.parsed_options
        peak = max(1, int(options.ramp_users))
        ramp_up_s = max(0.0, float(options.ramp_up_s))
        hold_s = max(0.0, float(options.ramp_hold_s))
        elapsed = self.get_run_time()
        if hold_s and elapsed > ramp_up_s + hold_s:
            return None
        spawn_rate = max(1.0, peak / ramp_up_s) if ramp_up_s else float(peak)
        return ramp_users(elapsed, peak, ramp_up_s), spawn_rate
