"""The runs a lab can do: a cache mode (``leaky``, ``lru``, ``redis``) or a catalogue scenario, leaky or fixed.

A scenario run is named for its scenario (``tasks``) or its fix (``tasks-fixed``) and starts the API with
``--scenario NAME [--fixed]`` beside the bounded LRU, so the scenario's leak is the only one. The story
itself is the ``cache`` scenario: leaky mode, fixed by the LRU.
"""

from __future__ import annotations

SCENARIOS = ("cache", "memoize", "listeners", "request-log", "tasks", "exceptions", "native", "metric-labels")
FIXED_SUFFIX = "-fixed"


def run_name(scenario: str, fixed: bool) -> str:
    return scenario + FIXED_SUFFIX if fixed else scenario


def scenario_of(name: str) -> tuple[str, bool] | None:
    """``(scenario, fixed)`` for a scenario run's name, ``None`` for a cache mode."""
    base = name.removesuffix(FIXED_SUFFIX)
    if base in SCENARIOS:
        return base, name != base
    return None


def api_launch(name: str) -> tuple[str, list[str]]:
    """The cache mode and extra ``leaklab api`` flags a run starts the API with."""
    scenario = scenario_of(name)
    if scenario is None:
        return name, []
    base, fixed = scenario
    if base == "cache":
        return ("lru" if fixed else "leaky"), []
    return "lru", ["--scenario", base, *(["--fixed"] if fixed else [])]


def catalogue_runs(scenarios: list[str]) -> list[str]:
    """Every scenario leaky then fixed, in catalogue order."""
    return [run_name(s, fixed) for s in scenarios for fixed in (False, True)]
