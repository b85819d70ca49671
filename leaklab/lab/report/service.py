"""The report's words for your own service (``run --app``/``--cmd``): what ran, how, and what the lab cannot see.

The lab's own pages explain the story's cache; a run on your service explains itself instead. Each
function returns None for a report of the lab's API, so the page keeps its own text there.
"""

from __future__ import annotations

import html
from typing import Any

APP_ALLOC = """<p>While the load ran, the lab's launcher turned on Python's <code>tracemalloc</code> in your app's
process for a window at the end of the run (on a second loopback port, never on your routes), then asked which
source lines allocated the memory that is still alive. Lines are named in your files, relative to
<code>--app-dir</code>; a line inside a library or the standard library is named by the line of your code that
called it (<i>your line</i> (via <i>the library's</i>)). Tracing slows the app, so it is not left on for the whole
run, and it runs last so that its own memory does not blur the part of the run the verdict judges.</p>"""
CMD_ALLOC = """<p>A <code>--cmd</code> run records no allocation sites: the lab does not run inside that process.</p>"""


def _targets(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    targets: dict[str, dict[str, Any]] = summary.get("targets") or {}
    return targets


def service_explanation(summary: dict[str, Any]) -> str | None:
    """What ran and how, for each of your services; None for the lab's API."""
    targets = _targets(summary)
    if not targets:
        return None
    s = summary["settings"]
    load = s["load"]
    parts = []
    for name, about in targets.items():
        what = (
            f"<code>{_e(name)}</code> from <code>{_e(about['app_dir'])}</code>: {_e(about['headline'])}"
            if about["kind"] == "app"
            else f"the command <code>{_e(about['cmd'])}</code>, run in <code>{_e(about['app_dir'])}</code>: "
            f"{_e(about['headline'].split('; ', 1)[-1])}"
        )
        parts.append(f"<li>{what}. Traffic: {_e(about['traffic'])}.</li>")
    blind = "".join(
        f"<p class=note><b>What this run cannot see.</b> {_e(about['cannot_see'])}</p>"
        for about in targets.values()
        if about.get("cannot_see")
    )
    return f"""
<p>Your service ran as the lab runs its own API: in a memory cgroup of its own with a limit of
<b>{_e(s["mem_limit"])}</b> (the kernel OOM-kills it there, as in a container, and the lab restarts it and counts
the kill), under {_e(load["users"])} Locust users for {_e(load["duration_s"])} s, sampled once a second.</p>
<ul>{"".join(parts)}</ul>{blind}
<p><b>How to read it:</b> a leak is memory that keeps climbing, at a steady rate, until the limit; a bounded
service may climb while its caches, pools and sessions fill, then levels off: a plateau above the start is
<i>not</i> a leak. The verdict table gives the rate the line was fitted with; the allocation sites below
name the line that holds what grew.</p>
<p class=muted>Memory figures are in MiB (2<sup>20</sup> bytes), the unit of the kernel's limits. The table's
figures are resident memory (RSS); the memory chart shows what the limit counts (the cgroup's usage).</p>
"""


def service_alloc_intro(summary: dict[str, Any]) -> str | None:
    """How the allocation sites were recorded, for your service; None for the lab's API."""
    targets = _targets(summary)
    if not targets:
        return None
    return "".join(APP_ALLOC if about["kind"] == "app" else CMD_ALLOC for about in targets.values())


def _e(value: Any) -> str:
    return html.escape(str(value))
