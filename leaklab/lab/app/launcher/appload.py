"""Import ``MODULE:ATTR`` the way ``uvicorn``/``gunicorn`` do, and say in one line why it is not an app."""

from __future__ import annotations

import difflib
import importlib
import inspect
import traceback
from pathlib import Path

ASGI, WSGI = "asgi", "wsgi"
MAX_SOURCE_CHARS = 100


class LaunchError(Exception):
    """The app cannot be served; ``str()`` is one line naming the cause (and its line, when there is one)."""


def load_app(spec: str, app_dir: Path) -> object:
    """The object ``spec`` names, imported with ``app_dir`` first on ``sys.path``."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except SyntaxError as exc:
        where = _where(Path(exc.filename or "?"), exc.lineno or 0, app_dir, exc.text or "")
        raise LaunchError(f"cannot import {module_name!r}: SyntaxError: {exc.msg} ({where})") from None
    except Exception as exc:
        raise LaunchError(_import_error(module_name, exc, app_dir)) from None
    obj: object = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            apps = [name for name, value in vars(module).items() if interface_of(value) and not name.startswith("_")]
            close = difflib.get_close_matches(part, apps, n=1)
            hint = f" (apps in it: {', '.join(apps)})" if apps else ""
            if close:
                hint = f" (did you mean {module_name}:{close[0]}?)"
            raise LaunchError(f"module {module_name!r} has no attribute {attr!r}{hint}")
        obj = getattr(obj, part)
    return obj


def _import_error(module_name: str, exc: Exception, app_dir: Path) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if _inside(Path(f.filename), app_dir)]
    why = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    missing = exc.name if isinstance(exc, ModuleNotFoundError) else None
    if missing and not ours and module_name.split(".")[0] == missing.split(".")[0]:
        return f"cannot import {module_name!r}: no module named {missing!r} in --app-dir {app_dir}"
    frame = (ours or frames)[-1] if (ours or frames) else None
    if frame is None:
        return f"cannot import {module_name!r}: {why}"
    where = _where(Path(frame.filename), frame.lineno or 0, app_dir, frame.line or "")
    return f"cannot import {module_name!r}: {why} ({where})"


def _inside(path: Path, root: Path) -> bool:
    if not path.is_absolute():  # <frozen importlib._bootstrap>, <string>
        return False
    try:
        return path.resolve().is_relative_to(root) and "site-packages" not in path.parts
    except OSError:
        return False


def _where(path: Path, line: int, app_dir: Path, source: str) -> str:
    name = path.resolve().relative_to(app_dir).as_posix() if _inside(path, app_dir) else str(path)
    text = " ".join(source.split())[:MAX_SOURCE_CHARS]
    return f"{name}:{line}: {text}" if text else f"{name}:{line}"


def interface_of(obj: object) -> str | None:
    """``asgi`` (a coroutine taking scope, receive, send), ``wsgi`` (environ, start_response), else None."""
    if inspect.isclass(obj) or inspect.ismodule(obj) or not callable(obj):
        return None
    call = obj if inspect.isfunction(obj) or inspect.ismethod(obj) else getattr(obj, "__call__", None)  # noqa: B004
    if call is None:
        return None
    if inspect.iscoroutinefunction(call):
        return ASGI
    try:
        params = inspect.signature(call).parameters.values()
    except (TypeError, ValueError):
        return None
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return {2: WSGI, 3: ASGI}.get(len(positional))


def not_an_app(spec: str, obj: object) -> str:
    """One line: what ``spec`` is instead of an app."""
    if inspect.isfunction(obj) and not inspect.signature(obj).parameters:
        return (
            f"{spec} is a function taking no arguments, not an ASGI or WSGI app: if it builds the app, "
            f"call it in your module (app = {obj.__name__}()) and point --app there"
        )
    if callable(obj) and not inspect.isclass(obj):
        return f"cannot tell from its signature whether {spec} is an ASGI or a WSGI app: pass --interface asgi or wsgi"
    kind = "a module" if inspect.ismodule(obj) else "a class" if inspect.isclass(obj) else f"a {type(obj).__name__}"
    return (
        f"{spec} is {kind}, not an ASGI or WSGI app (an ASGI app is a coroutine taking scope, receive, send; "
        "a WSGI app a callable taking environ, start_response): point --app at the application object"
    )
