"""Traffic for your own service (``leaklab run --app``/``--cmd`` without ``--locustfile``): GET each path in turn.

- ``PathsUser``: each user GETs the ``--get-path`` templates one after another (``leaklab``'s ``--path``,
  repeatable), starting at a random one. In a template, ``{uuid}`` becomes a fresh uuid4 per request
  and ``{n}`` a counter (one per Locust process), so ``/orders/{uuid}`` asks for a new order each time.
  Stats group the requests by template.

Users wait ``--wait-s`` seconds (mean) between requests: ``locustfile.py``'s option and wait, imported
(its user classes are not: Locust runs only the classes named in this file).
"""

from __future__ import annotations

import itertools
import random
import uuid

from locust import FastHttpUser, events, task
from locust.argument_parser import LocustArgumentParser

# isort: split
from locustfile import wait_s  # registers --wait-s (and the story's options) too

COUNTER = itertools.count()


@events.init_command_line_parser.add_listener
def _add_arguments(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--get-path", action="append", default=[], include_in_web_ui=False,
        help="a path to GET (repeatable); {uuid}: a fresh uuid4 per request, {n}: a counter",
    )  # fmt: skip


def expand(template: str) -> str:
    """``template`` with ``{uuid}`` and ``{n}`` filled in for one request."""
    path = template.replace("{uuid}", str(uuid.uuid4())) if "{uuid}" in template else template
    return path.replace("{n}", str(next(COUNTER))) if "{n}" in path else path


class PathsUser(FastHttpUser):
    """GETs each ``--get-path`` template in turn, with its placeholders filled in per request."""

    wait_time = wait_s

    def on_start(self) -> None:
        paths = list(self.environment.parsed_options.get_path or ["/"])
        first = random.randrange(len(paths))
        self.turn = itertools.cycle(paths[first:] + paths[:first])

    @task
    def next_path(self) -> None:
        template = next(self.turn)
        self.client.get(expand(template), name=template)
