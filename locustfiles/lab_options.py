"""The lab's own Locust options, declared once: each ``--some-name`` flag also reads ``LOCUST_SOME_NAME``.

Imported by ``locustfile.py``, ``ramp.py`` and ``prometheus_exporter.py``, which each list their options.
"""

from __future__ import annotations

from locust import events
from locust.argument_parser import LocustArgumentParser

Option = tuple[str, type, object, str]  # flag, type, default, help


def add_options(*options: Option, web_ui: bool = True) -> None:
    """Register ``options`` with Locust's parser, shown in its web UI when ``web_ui``."""

    def add(parser: LocustArgumentParser) -> None:
        for flag, kind, default, help in options:
            env_var = "LOCUST_" + flag.removeprefix("--").replace("-", "_").upper()
            # include_in_web_ui works on the parser itself, not on an argument group
            parser.add_argument(flag, type=kind, env_var=env_var, default=default, include_in_web_ui=web_ui, help=help)

    events.init_command_line_parser.add_listener(add)
