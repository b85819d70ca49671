"""What the drill grades against: each scenario's leaking line, its function and its class.

Read from the API's source rather than written down twice: each scenario module marks its leaking
line with a ``THE LEAK`` comment (on the line itself or the line above it) and explains the pattern in
its docstring, which the drill prints once the learner has answered.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

API_PACKAGE = Path(__file__).resolve().parents[2] / "services" / "api" / "leaklab_api"
MARKER = "THE LEAK"
SCENARIOS = ("cache", "memoize", "listeners", "request-log", "tasks", "exceptions", "native", "metric-labels")
NATIVE = frozenset({"native"})  # memory from C's malloc: tracemalloc cannot see it
# Where the kept memory is made, when that is another function of the module than the line that keeps
# it: the allocation views name this function first, so an answer naming it has found the leak too.
ALLOCATED_IN = {"memoize": "render_page", "exceptions": "_enrich"}


@dataclass(frozen=True, slots=True)
class Leak:
    """One scenario's answer: where it leaks (file, line, function) and what leaks (python or native)."""

    scenario: str
    path: str  # relative to the repository, e.g. services/api/leaklab_api/scenarios/memoize.py
    line: int
    function: str  # qualified: Class.method
    first_line: int  # the function's extent, for answers that name a line of the right function
    last_line: int
    allocated_in: tuple[str, int, int] | None  # (function, first line, last line), see ALLOCATED_IN
    kind: str  # "python" or "native"
    explanation: str  # the module's docstring
    source: str  # the leaking line's text

    @property
    def module(self) -> str:
        return Path(self.path).stem

    def env(self, *, fixed: bool) -> dict[str, str]:
        """The API's settings for this scenario, leaking or with its fix applied (catalogue scenarios run
        beside the bounded LRU so that theirs is the only leak; the story's fix is the bounded cache)."""
        if self.scenario == "cache":
            return {"LEAKLAB_SCENARIO": "cache", "LEAKLAB_CACHE_MODE": "lru" if fixed else "leaky"}
        return {
            "LEAKLAB_SCENARIO": self.scenario,
            "LEAKLAB_SCENARIO_FIXED": "true" if fixed else "false",
            "LEAKLAB_CACHE_MODE": "lru",
        }


def module_path(scenario: str) -> Path:
    if scenario == "cache":
        return API_PACKAGE / "cache" / "leaky.py"
    return API_PACKAGE / "scenarios" / f"{scenario.replace('-', '_')}.py"


@cache
def leak(scenario: str) -> Leak:
    """The facts of ``scenario``; ``KeyError`` for a name the catalogue does not have."""
    if scenario not in SCENARIOS:
        raise KeyError(scenario)
    path = module_path(scenario)
    text = path.read_text()
    lines = text.splitlines()
    marked = next(n for n, line in enumerate(lines, start=1) if MARKER in line)
    line = marked
    while lines[line - 1].lstrip().startswith("#"):  # the marker comments the line below it
        line += 1
    tree = ast.parse(text)
    function, first, last = _enclosing_function(tree, line)
    return Leak(
        scenario=scenario,
        path=path.relative_to(API_PACKAGE.parents[2]).as_posix(),
        line=line,
        function=function,
        first_line=first,
        last_line=last,
        allocated_in=_function(tree, ALLOCATED_IN[scenario]) if scenario in ALLOCATED_IN else None,
        kind="native" if scenario in NATIVE else "python",
        explanation=ast.get_docstring(tree) or "",
        source=lines[line - 1].strip(),
    )


def _enclosing_function(tree: ast.Module, line: int) -> tuple[str, int, int]:
    best: tuple[str, int, int] = ("<module>", 1, line)
    for cls in [None, *[n for n in tree.body if isinstance(n, ast.ClassDef)]]:
        body = tree.body if cls is None else cls.body
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                end = node.end_lineno or node.lineno
                if node.lineno <= line <= end:
                    best = (f"{cls.name}.{node.name}" if cls else node.name, node.lineno, end)
    return best


def _function(tree: ast.Module, name: str) -> tuple[str, int, int]:
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == name)
    return name, node.lineno, node.end_lineno or node.lineno
