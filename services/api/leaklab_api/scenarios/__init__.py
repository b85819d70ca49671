"""The leak catalogue: one module per pattern, each run on every ``GET /data`` beside the cache.

Every module is a small piece of realistic service code that leaks under the lab's traffic, with its fix
behind ``fixed`` (``LEAKLAB_SCENARIO_FIXED``). Its docstring says where the pattern turns up in real
code, which line leaks and why, and what the fix changes. ``docs/leaks.md`` tells the same per scenario
with links to real reports. The story's scenario, ``cache``, has no module here: it is the cache itself
(``cache/leaky.py``), and the request path then skips this hook entirely.
"""

from __future__ import annotations

from importlib import import_module
from typing import Protocol

from prometheus_client import CollectorRegistry

from ..settings import ScenarioName, Settings

# scenario name -> (module, class); every class takes (fixed, registry)
MODULES = {
    ScenarioName.MEMOIZE: ("memoize", "Memoize"),
    ScenarioName.LISTENERS: ("listeners", "Listeners"),
    ScenarioName.REQUEST_LOG: ("request_log", "RequestLog"),
    ScenarioName.TASKS: ("tasks", "Tasks"),
    ScenarioName.EXCEPTIONS: ("exceptions", "Exceptions"),
    ScenarioName.NATIVE: ("native", "Native"),
    ScenarioName.METRIC_LABELS: ("metric_labels", "MetricLabels"),
}


class Scenario(Protocol):
    """Service code that runs once per ``GET /data`` with the request's key and response body."""

    def on_request(self, key: str, body: bytes) -> None:
        """Do the scenario's work for one request (leaking, unless it runs fixed); must not raise."""
        ...


def build_scenario(settings: Settings, registry: CollectorRegistry) -> Scenario | None:
    """The chosen catalogue scenario, or ``None`` for the story (``cache``), whose leak is the cache."""
    if settings.scenario is ScenarioName.CACHE:
        return None
    module_name, class_name = MODULES[settings.scenario]
    module = import_module(f"{__name__}.{module_name}")
    scenario: Scenario = getattr(module, class_name)(settings.scenario_fixed, registry)
    return scenario
