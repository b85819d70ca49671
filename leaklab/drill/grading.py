"""Answers and grades: where the leak is (a line, or the module and function) and what leaks.

An answer is two words, ``WHERE CLASS``: ``WHERE`` is ``file:line`` (any tail of the path:
``memoize.py:42``, ``scenarios/memoize.py:42``, or the container's ``/app/leaklab_api/...``) or
``module:function`` / ``module.function`` (``memoize.Memoize.on_request``); ``CLASS`` is ``python``
(Python objects, which tracemalloc sees) or ``native`` (memory from C, which it cannot). Anything
else is graded as malformed, with the rule, never raised.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from .catalogue import Leak

CLASSES = {
    "python": "python", "py": "python", "objects": "python", "python-objects": "python",
    "native": "native", "c": "native", "native-memory": "native",
}  # fmt: skip
FORMAT = "answer as WHERE CLASS, e.g. `scenarios/memoize.py:42 python` or `memoize.Memoize.on_request native`"


@dataclass(frozen=True, slots=True)
class Answer:
    text: str
    path: str | None = None
    line: int | None = None
    function: str | None = None
    kind: str | None = None
    problem: str | None = None  # why it could not be read


def parse(text: str) -> Answer:
    words = text.split()
    if len(words) != 2:
        return Answer(text, problem=f"expected two words, got {len(words)}: {FORMAT}")
    where, kind_word = words
    kind = CLASSES.get(kind_word.lower())
    if kind is None:
        return Answer(text, problem=f"class must be python or native (got {kind_word!r}): {FORMAT}")
    match = re.fullmatch(r"(?P<path>[\w./-]+\.py):(?P<line>\d+)", where)
    if match:
        return Answer(text, path=match["path"], line=int(match["line"]), kind=kind)
    match = re.fullmatch(r"(?P<path>[\w./-]+?)(?:\.py)?[:.](?P<function>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)", where)
    if match:
        return Answer(text, path=match["path"], function=match["function"], kind=kind)
    return Answer(text, problem=f"cannot read {where!r} as file:line or module.function: {FORMAT}")


@dataclass(frozen=True, slots=True)
class Grade:
    answer: str
    correct: bool
    where: str  # "line", "function", "allocation" (where the kept memory is made), "wrong", "malformed"
    kind_correct: bool
    feedback: str
    seconds: float
    hints: int

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def grade(answer: Answer, leak: Leak, *, seconds: float, hints: int) -> Grade:
    """Grade ``answer`` against ``leak``: the place and the class must both be right."""
    if answer.problem:
        return Grade(answer.text, False, "malformed", False, answer.problem, seconds, hints)
    where = _where(answer, leak)
    kind_ok = answer.kind == leak.kind
    notes = {
        "line": f"right line: {leak.path}:{leak.line} in {leak.function}()",
        "function": f"right function: {leak.function}() in {leak.path} (the leaking line is {leak.line})",
        "allocation": f"right place: the kept memory is made in {leak.allocated_in[0] if leak.allocated_in else '?'}() "
        f"and kept by {leak.path}:{leak.line} in {leak.function}()",
        "wrong": "wrong place: that is not where the memory is kept",
    }
    feedback = notes[where] + "; " + ("right class" if kind_ok else "wrong class")
    feedback += f" ({'Python objects' if leak.kind == 'python' else 'native memory'})" if kind_ok else ""
    return Grade(answer.text, where != "wrong" and kind_ok, where, kind_ok, feedback, seconds, hints)


def _same_file(given: str, leak: Leak) -> bool:
    """Any tail of the path names the file: ``memoize.py``, ``scenarios/memoize``, ``leaklab_api.scenarios.memoize``."""
    given = given.replace("\\", "/").removesuffix(".py")
    parts = [p for p in re.split(r"[/.]", given) if p]
    if "leaklab_api" in parts:  # /app/leaklab_api/... in the container, or an absolute path here
        parts = parts[parts.index("leaklab_api") :]
    full = leak.path.removesuffix(".py").split("/")
    return bool(parts) and full[-len(parts) :] == parts


def _where(answer: Answer, leak: Leak) -> str:
    if answer.path is not None and answer.line is not None:
        if not _same_file(answer.path, leak):
            return "wrong"
        if answer.line == leak.line:
            return "line"
        if leak.first_line <= answer.line <= leak.last_line:
            return "function"
        allocated = leak.allocated_in
        return "allocation" if allocated and allocated[1] <= answer.line <= allocated[2] else "wrong"
    if answer.path is None or answer.function is None:
        return "wrong"
    if leak.allocated_in and answer.function == leak.allocated_in[0] and _same_file(answer.path, leak):
        return "allocation"
    path, function = answer.path, answer.function
    method = leak.function.split(".")[-1]
    cls = leak.function.split(".")[0] if "." in leak.function else None
    if "." in function:  # module.Class.method was split as module.Class / method: put Class back
        if function == leak.function and _same_file(path, leak):
            return "function"
        return "wrong"
    if cls and path.split(".")[-1] == cls and function == method:  # memoize.Memoize.on_request
        path = path.rsplit(".", 1)[0] if "." in path else path
        return "function" if _same_file(path, leak) else "wrong"
    return "function" if function == method and _same_file(path, leak) else "wrong"
