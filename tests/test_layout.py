"""The package's layers, checked from its imports: shared helpers at the top, one package per command family.

``leaklab/*.py`` (cli, args, procs, scrape, units, machine, files) import no command family; the families
(``lab``, ``profile``, ``bench``, ``soak``, ``drill``, ``judge``) never import ``bench`` or each other upward; and no
module imports itself back through another (no cycles). ``cli`` names each command's module by string only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "leaklab"
FAMILIES = ("lab", "profile", "bench", "soak", "drill", "judge")
# which other family a family may use: profiling drives the lab's Locust (lab.load); the soak is lab runs judged
# by stricter criteria, so it builds on the lab; the drill runs the API under the lab's memory limit and load; the
# judge reads run directories as the lab writes them (and its corpus records catalogue runs with the lab)
ALLOWED = {"lab": set(), "profile": {"lab"}, "bench": set(), "soak": {"lab"}, "drill": {"lab"}, "judge": {"lab"}}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The ``leaklab.*`` modules ``path`` imports, relative imports resolved."""
    me = _module(path)
    package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("leaklab.") or a.name == "leaklab"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "leaklab":
                continue
            found.add(target)
            found |= {f"{target}.{a.name}" for a in node.names}
    modules = {_module(p) for p in PACKAGE.rglob("*.py")}
    return {m for m in found if m in modules and m != me}


GRAPH = {_module(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _family(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in FAMILIES else None


@pytest.mark.parametrize("module", [m for m in GRAPH if _family(m) is None and m != "leaklab"])
def test_shared_helpers_import_no_command_family(module: str) -> None:
    assert not {m for m in GRAPH[module] if _family(m)}, f"{module} imports a command family"


@pytest.mark.parametrize("family", FAMILIES)
def test_families_import_only_what_they_may(family: str) -> None:
    used = {_family(m) for mod, deps in GRAPH.items() if _family(mod) == family for m in deps} - {None, family}
    assert used <= ALLOWED[family], f"leaklab.{family} imports leaklab.{used - ALLOWED[family]}"


def test_no_import_cycles() -> None:
    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(GRAPH[start])
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo += GRAPH.get(module, set())
        return seen

    cycles = sorted(m for m in GRAPH if m in reach(m))
    assert not cycles, f"import cycles through: {cycles}"
