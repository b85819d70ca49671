"""``report.html``: one self-contained page (charts embedded as data URIs) that a newcomer can read."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...units import mib, size
from .charts import CHARTS
from .service import service_alloc_intro, service_explanation

TOP_SITES = 5

CSS = """
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#222;max-width:1080px;margin:2em auto;
padding:0 1em}h1{margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0;font-size:14px}th,td{border:1px solid #ddd;padding:.3em .6em;
text-align:right;vertical-align:top}th{background:#f5f5f5}td.l,th.l{text-align:left}code{background:#f3f3f3;
padding:0 .25em;border-radius:3px}.leaking{background:#d62728;color:#fff}.bounded{background:#2ca02c;color:#fff}
.inconclusive{background:#7f7f7f;color:#fff}
.badge{padding:.1em .5em;border-radius:4px;font-weight:600}.note{background:#fff8e1;border-left:4px solid #f0b400;
padding:.5em 1em}.muted{color:#666}figure{margin:1em 0}figcaption{color:#555;font-size:14px}img{max-width:100%}
.top td{background:#fdecea}table.sites{table-layout:fixed;width:100%}table.sites td{overflow-wrap:anywhere}
.headline{font-size:17px}
"""


def e(value: Any) -> str:
    return html.escape(str(value))


def _num(value: Any, fmt: str = "{:,.1f}", missing: str = "–") -> str:
    return missing if value is None else fmt.format(value)


def verdict_section(modes: dict[str, Any]) -> str:
    head = (
        "<tr><th class=l>mode</th><th class=l>verdict</th><th>leak rate<br>MiB/min (R²)</th>"
        "<th>memory start → peak → end<br>(plateau), MiB</th><th>/metrics series<br>start → end (growth)</th>"
        "<th>OOM kills<br>(restarts)</th><th>requests</th>"
        "<th>failures</th><th>latency p50 / p95 / p99<br>ms</th><th>hit ratio</th><th>evictions</th>"
        "<th>Redis used (peak)<br>/ maxmemory</th></tr>"
    )
    rows = []
    for mode, m in modes.items():
        r2 = f" ({m['fit_r2']:.2f})" if m.get("fit_r2") is not None else ""
        failures = _num(m.get("failures"), "{:,}")
        if m.get("failure_ratio"):
            failures += f" ({m['failure_ratio']:.1%})"
        redis = f"{mib(m.get('redis_used_memory_peak_bytes'))} / {mib(m.get('redis_maxmemory_bytes'))}"
        rows.append(
            f"<tr><td class=l><b>{e(mode)}</b></td>"
            f"<td class=l><span class='badge {e(m['verdict'])}'>{e(m['verdict'])}</span></td>"
            f"<td>{_num(m.get('leak_rate_mib_per_min'))}{r2}</td>"
            f"<td>{_num(m.get('rss_start_mib'))} → {_num(m.get('rss_peak_mib'))} → {_num(m.get('rss_end_mib'))}"
            f" ({_num(m.get('rss_plateau_mib'))})</td><td>{_series(m)}</td>"
            f"<td>{m.get('oom_kills', 0)} ({m.get('restarts', 0)})</td><td>{_num(m.get('requests'), '{:,}')}</td>"
            f"<td>{failures}</td><td>{_num(m.get('p50_ms'), '{:g}')} / {_num(m.get('p95_ms'), '{:g}')} / "
            f"{_num(m.get('p99_ms'), '{:g}')}</td><td>{_num(m.get('hit_ratio'), '{:.1%}')}</td>"
            f"<td>{_num(m.get('evictions'), '{:,.0f}')}</td><td>{redis if mode == 'redis' else '–'}</td></tr>"
        )
    return f"<table id=verdict>{head}{''.join(rows)}</table>"


def _series(m: dict[str, Any]) -> str:
    if m.get("metric_series_growth") is None:
        return "–"
    start, end, growth = m.get("metric_series_start"), m.get("metric_series_end"), m["metric_series_growth"]
    return f"{_num(start, '{:,}')} → {_num(end, '{:,}')} ({growth:+,})"


def triage_table(modes: dict[str, Any]) -> str:
    """What leaks, per run: verdict, class (python objects or native memory), rate, top line, time to the limit."""
    head = (
        "<tr><th class=l>run</th><th class=l>verdict</th><th class=l>class</th><th>leak rate<br>MiB/min</th>"
        "<th>time to the limit<br>s</th><th class=l>top line (tracemalloc)</th></tr>"
    )
    rows = []
    for mode, m in modes.items():
        seconds = m.get("seconds_to_limit")
        if m.get("oom_kills"):
            seconds_text = f"reached ({m['oom_kills']} OOM kill{'s' if m['oom_kills'] != 1 else ''})"
        else:
            seconds_text = _num(seconds, "{:,.0f}")
        top = m.get("top_line") or ("not visible to tracemalloc" if m.get("leak_class") == "native memory" else "–")
        rows.append(
            f"<tr><td class=l><b>{e(mode)}</b></td>"
            f"<td class=l><span class='badge {e(m['verdict'])}'>{e(m['verdict'])}</span></td>"
            f"<td class=l>{e(m.get('leak_class') or '–')}</td><td>{_num(m.get('leak_rate_mib_per_min'))}</td>"
            f"<td>{e(seconds_text)}</td><td class=l><code>{e(top)}</code></td></tr>"
        )
    notes = "".join(
        f"<p class=muted><b>{e(mode)}</b>: {e(m['triage'])}</p>" for mode, m in modes.items() if m.get("triage")
    )
    return f"<table>{head}{''.join(rows)}</table>{notes}"


def headline(modes: dict[str, Any]) -> str:
    parts = []
    for mode, m in modes.items():
        if m["verdict"] == "leaking":
            kills = m.get("oom_kills") or 0
            rate = m.get("leak_rate_mib_per_min")
            grew = f"grew about {rate:,.0f} MiB per minute" if rate else "grew"
            end = f" and was OOM-killed {kills} time{'s' if kills != 1 else ''}" if kills else ""
            if "series" in (m.get("verdict_rules") or []):
                end += f"; its /metrics series count grew by {m['metric_series_growth']:,} (a label leak)"
            parts.append(f"<b>{e(mode)}</b> <span class='badge leaking'>leaked</span>: memory {grew}{end}")
        elif m["verdict"] == "bounded":
            parts.append(
                f"<b>{e(mode)}</b> <span class='badge bounded'>stayed bounded</span> around "
                f"{_num(m.get('rss_plateau_mib'), '{:,.0f}')} MiB"
            )
        else:
            parts.append(f"<b>{e(mode)}</b> <span class='badge inconclusive'>inconclusive</span>: too short to tell")
    reasons = "".join(
        f"<br><small>{e(mode)}: {e(m['verdict_reason'])}.</small>"
        for mode, m in modes.items()
        if m.get("verdict_reason")
    )
    return "; ".join(parts) + "." + reasons


def explanation(summary: dict[str, Any]) -> str:
    s = summary["settings"]
    load = s["load"]
    modes = summary["modes"]
    mechanisms = sorted({m.get("limit_description") or "?" for m in modes.values()})
    wait = "as fast as it can" if not load["wait_s"] else f"waiting about {load['wait_s']} s between requests"
    return f"""
<p>This lab replays a real incident: a web API caches every response in a plain dictionary under a
<b>fresh key per request</b>, so nothing is ever found again and nothing is ever removed. Memory grows with every
request until the process hits its memory limit and the kernel kills it (an <b>OOM kill</b>); it restarts and
starts leaking again. The fix is a cache with a bound.</p>
<ul>
<li><b>leaky</b>: the bug, an unbounded <code>dict</code> (<code>services/api/leaklab_api/cache/leaky.py</code>).</li>
<li><b>lru</b>: the fix from the story, an in-process LRU cache holding at most a fixed number of entries.</li>
<li><b>redis</b>: the cache moved to Redis with <code>maxmemory</code> and <code>allkeys-lru</code>: Redis evicts old
keys and the API's own memory stays flat.</li>
</ul>
<p>Each mode ran for {e(load["duration_s"])} s under the same load: {e(load["users"])} Locust users of class
<code>{e(load["user_class"])}</code>, {e(wait)}. The API ran with a memory limit of
<b>{e(s["mem_limit"])}</b>, enforced by: {e("; ".join(mechanisms))}. That is what a container's
<code>mem_limit</code> does too.</p>
<p><b>How to read it:</b> in the memory chart, a leak is a line that keeps climbing until it meets the dashed limit
(✕ marks each OOM kill, after which the API restarts near its start-up size). A bounded cache climbs for a
moment while the cache fills, then stays flat: a plateau above the start is <i>not</i> a leak. While the API is
down after a kill, Locust's requests fail, as users would see in production. The allocation-site tables
below name the source line that holds the memory, the way the story's DevTools recording did.</p>
<p class=muted>Memory figures are in MiB (2<sup>20</sup> bytes), the unit of Docker's and the kernel's limits.
The table's figures are the API's resident set size (RSS, <code>process_resident_memory_bytes</code>); RSS also
counts shared library pages that the kernel charges elsewhere, so it can read a little above the limit just before
a kill. The memory chart shows what the limit counts: the cgroup's own usage (or RSS under the watchdog).</p>
"""


def alloc_section(modes: dict[str, Any]) -> str:
    parts = []
    for mode, m in modes.items():
        alloc = m.get("alloc")
        if not alloc or not alloc.get("sites"):
            parts.append(f"<h3>{e(mode)}</h3><p class=muted>no allocation sites recorded for this mode.</p>")
            continue
        rows = []
        for rank, site in enumerate(alloc["sites"][:TOP_SITES], start=1):
            cls = " class=top" if rank == 1 and mode == "leaky" else ""
            rows.append(
                f"<tr{cls}><td>{rank}</td><td class=l><code>{e(site['site'])}</code></td>"
                f"<td class=l><code>{e(site.get('line', ''))}</code>{_caller(site)}</td>"
                f"<td>{size(site.get('growth_bytes'))}</td>"
                f"<td>{_num(site.get('share'), '{:.1%}')}</td><td>{_num(site.get('count'), '{:,}')}</td></tr>"
            )
        parts.append(
            f"<h3>{e(mode)}</h3><p class=muted>tracemalloc recording from {e(alloc.get('from_s'))} s to "
            f"{e(alloc.get('to_s'))} s of the run; traced memory at the end: {mib(alloc.get('traced_bytes'))}; "
            f"top {TOP_SITES} of the lines whose live memory grew most during the recording.</p>"
            "<table class=sites><colgroup><col style='width:3em'><col style='width:38%'><col><col style='width:7em'>"
            "<col style='width:6em'><col style='width:5.5em'></colgroup><tr><th>#</th><th class=l>site</th>"
            f"<th class=l>source line</th><th>growth</th><th>share</th><th>blocks</th></tr>{''.join(rows)}</table>"
        )
    return "".join(parts)


def _caller(site: dict[str, Any]) -> str:
    """For a site inside a library: the line of the project's code that called it."""
    caller = site.get("caller")
    return f"<br><small>called from <code>{e(caller)}</code></small>" if caller else ""


def events_section(modes: dict[str, Any]) -> str:
    rows = []
    for mode, m in modes.items():
        for ev in m.get("events", []):
            rows.append(
                f"<tr><td class=l>{e(mode)}</td><td>{_num(ev.get('t_s'))} s</td><td class=l>{e(ev.get('kind'))}</td>"
                f"<td class=l>{e(ev.get('detail', ''))}</td></tr>"
            )
        if m.get("error"):
            rows.append(
                f"<tr><td class=l>{e(mode)}</td><td></td><td class=l>error</td><td class=l>{e(m['error'])}</td>"
            )
    if not rows:
        return "<p>No OOM kills, restarts or errors.</p>"
    return "<table><tr><th class=l>mode</th><th>time</th><th class=l>event</th><th class=l>detail</th></tr>" + (
        "".join(rows) + "</table>"
    )


def settings_section(summary: dict[str, Any]) -> str:
    s = summary["settings"]
    flat: list[tuple[str, Any]] = []
    for key, value in s.items():
        if isinstance(value, dict):
            flat += [(f"{key}.{k}", v) for k, v in value.items()]
        else:
            flat.append((key, value))
    rows = "".join(f"<tr><td class=l>{e(k)}</td><td class=l><code>{e(v)}</code></td></tr>" for k, v in flat)
    return f"<table>{rows}</table>"


LAB_ALLOC = """<p>While the load ran, the lab turned on Python's <code>tracemalloc</code> in the API for a short window
(<code>POST /debug/memory/start</code>), then asked which source lines allocated the memory that is still alive
(<code>GET /debug/memory</code>). Tracing makes the API slower, so it is not left on for the whole run.
In leaky mode the top line is the cache write in <code>leaky.py</code>, holding nearly all of the growth; in the
bounded modes no line keeps growing, so what is left at the top are small allocations of the framework.</p>"""


def render(out: Path, summary: dict[str, Any], charts: Sequence[str]) -> str:
    modes = summary["modes"]
    figures = []
    for name in charts:
        data = base64.b64encode((out / name).read_bytes()).decode()
        figures.append(
            f"<figure><img alt='{e(CHARTS[name])}' src='data:image/png;base64,{data}'>"
            f"<figcaption>{e(CHARTS[name])} (<code>{e(name)}</code>)</figcaption></figure>"
        )
    notes = []
    if summary.get("interrupted"):
        notes.append("<p class=note>This run was interrupted (Ctrl-C): the report shows what was recorded.</p>")
    for skipped in summary.get("skipped_modes", []):
        notes.append(f"<p class=note>Mode <b>{e(skipped['mode'])}</b> was left out: {e(skipped['reason'])}</p>")
    t = summary["thresholds"]
    files = ["summary.json", "samples.csv", *charts, "report.html", "logs/"]
    return f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width,initial-scale=1">
<title>leaklab report: {e(", ".join(modes))}</title><style>{CSS}</style></head><body>
<h1>leaklab report</h1>
<p class=muted>{e(summary.get("created", ""))} · leaklab {e(summary.get("leaklab_version", ""))} ·
modes: {e(", ".join(modes))}</p>
{"".join(notes)}
<p class=headline>{headline(modes)}</p>
<h2>Verdict</h2>
{verdict_section(modes)}
<h2>What leaks: Python objects or native memory</h2>
{triage_table(modes)}
<h2>What you are looking at</h2>
{service_explanation(summary) or explanation(summary)}
<h2>Charts</h2>
{"".join(figures)}
<h2>Where the memory goes: top allocation sites</h2>
{service_alloc_intro(summary) or LAB_ALLOC}
<div id=alloc>{alloc_section(modes)}</div>
<h2>OOM kills, restarts and errors</h2>
{events_section(modes)}
<h2>How the verdict is computed</h2>
<p>{e(t["rule"])}.</p>
<p>The same judge gives the live view's verdict, the soak's memory criterion, the drill's rates, <code>leaklab
check</code> and <code>leaklab judge</code> on any memory series; its accuracy against the methods in use today is
measured in BENCHMARKS.md.</p>
<p>The class of a leaking run: {e(t.get("class_rule", ""))}.</p>
<h2>Settings</h2>
{settings_section(summary)}
<h2>Files</h2>
<p>{" · ".join(f"<code>{e(f)}</code>" for f in files)}. Re-render this page with
<code>leaklab report {e(out)}</code>.</p>
</body></html>
"""
