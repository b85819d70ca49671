"""``leaklab judge --prometheus URL --query Q --since 6h [--step 15s]``: one verdict per returned series.

It asks Prometheus' HTTP API for ``query_range`` over the last ``--since`` and names each series by its
labels (one per pod, say). The default step is 15 s, made coarser when a long ``--since`` would ask for
more than the 11,000 points per series Prometheus answers. Prometheus says nothing of restarts, so the
judge finds them in the series itself (a drop back to the start level).
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from ..args import shown
from ..verdict import Context
from .inputs import BadInput, Input, tidy
from .output import span

DEFAULT_STEP_S = 15.0
MAX_POINTS = 11_000  # Prometheus refuses a range query that would return more points per series
TIMEOUT_S = 30.0
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}


def prom_duration(text: str) -> float:
    """Seconds of a Prometheus duration (``90s``, ``6h``, ``1h30m``, ``3d``, ``1w``) or a plain number."""
    clean = text.strip()
    try:
        value = float(clean)
    except ValueError:
        parts = re.findall(r"(\d+(?:\.\d+)?)(ms|[smhdwy])", clean)
        if not parts or "".join(n + u for n, u in parts) != clean:
            raise ValueError(f"not a duration: {shown(text)} (use e.g. 90s, 6h, 1h30m or 3d)") from None
        value = sum(float(n) * _UNITS[u] for n, u in parts)
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"must be a positive duration (got {shown(text)})")
    return value


def series_name(labels: dict[str, str]) -> str:
    """``name{label="value",...}`` as PromQL writes a series (``{}`` for a result without labels)."""
    metric = labels.get("__name__", "")
    rest = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
    return f"{metric}{{{rest}}}" if rest or not metric else metric


def _get(base: str, url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            body: dict[str, Any] = json.load(response)
            return body
    except urllib.error.HTTPError as exc:
        try:
            body = json.load(exc)
        except ValueError:
            raise BadInput(f"--prometheus: {base} answered HTTP {exc.code}: is it Prometheus?") from None
        return body
    except urllib.error.URLError as exc:
        raise BadInput(f"--prometheus: cannot reach {base}: {exc.reason}") from None
    except TimeoutError:
        raise BadInput(f"--prometheus: {base} did not answer within {TIMEOUT_S:g} s") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"--prometheus: bad answer from {base}: {exc}") from None


def query_range(base: str, query: str, since_s: float, step_s: float | None, end: float | None = None) -> Any:
    """Prometheus' ``data`` for the query over the last ``since_s`` seconds (``BadInput`` on any error)."""
    if urllib.parse.urlsplit(base).scheme not in ("http", "https"):
        raise BadInput(f"--prometheus: not an http(s) URL: {shown(base)}")
    end = time.time() if end is None else end
    step = step_s or max(DEFAULT_STEP_S, math.ceil(since_s / MAX_POINTS))
    params = {"query": query, "start": f"{end - since_s:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"}
    body = _get(base, f"{base.rstrip('/')}/api/v1/query_range?{urllib.parse.urlencode(params)}")
    if body.get("status") != "success":
        raise BadInput(f"--query: Prometheus rejected {shown(query)}: {body.get('errorType')}: {body.get('error')}")
    return body.get("data", {})


def read_prometheus(
    base: str, query: str, since_s: float, step_s: float | None = None, context: Context | None = None
) -> list[Input]:
    data = query_range(base, query, since_s, step_s)
    result = data.get("result") if data.get("resultType") == "matrix" else None
    if not result:
        raise BadInput(f"--query: {shown(query)} returned no series over the last {span(since_s)}")
    inputs = []
    for item in result:
        name = series_name(item.get("metric", {}))
        points = item.get("values", [])
        times = [float(t) for t, _ in points]
        values = [float(v) for _, v in points]  # "NaN" and "+Inf" read as floats; tidy makes them missing
        inputs.append(Input(name, tidy(times, values, None, name), context or Context()))
    return inputs
