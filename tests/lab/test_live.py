"""The live view's counters: what the terminal shows each second, and totals that survive API restarts."""

from __future__ import annotations

import io

from rich.console import Console

from leaklab.lab.live import LiveDisplay, _plain, live_verdict, verdict_table
from leaklab.lab.result import ModeResult
from leaklab.lab.sampler import CounterTotals, Sample
from leaklab.units import MIB


def _display(duration_s: int = 30) -> tuple[LiveDisplay, io.StringIO]:
    out = io.StringIO()
    return LiveDisplay(["leaky", "lru"], duration_s, Console(file=out, width=150, force_terminal=False)), out


def _sample(t: float, **fields: object) -> Sample:
    base: dict[str, object] = {"api_pid": 100, "api_up": 1, "rss_bytes": 150 * MIB, "limit_bytes": 192 * MIB}
    return Sample("leaky", t, 1e9 + t, **(base | fields))  # type: ignore[arg-type]


def test_a_plain_line_every_ten_seconds_with_every_counter() -> None:
    display, out = _display()
    result = ModeResult("leaky")
    sample = _sample(0.0, rps=21.4, failures_total=1234, oom_kills=2, cache_entries=5678.0)
    for t in range(0, 21):
        display.update(result, sample, float(t))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3  # t = 0, 10 and 20 s: a CI log is not flooded
    assert lines[-1].split() == [  # the live verdict last: killed at the memory limit twice
        *["leaky", "20/30s", "150/192", "MiB", "21", "req/s", "1,234", "failed", "2", "OOM", "5,678", "entries"],
        "leaking",
    ]


def test_the_line_says_when_the_api_is_down_and_when_tracing() -> None:
    display, out = _display()
    display.update(ModeResult("leaky"), _sample(0.0, rss_bytes=None, api_up=0), 0.0)
    display.update(ModeResult("leaky"), _sample(10.0, tracing=1, cache_entries=None), 10.0)
    down, tracing = out.getvalue().splitlines()
    assert "down/192 MiB (API down)" in down and "0 req/s" in down
    assert tracing.endswith("– entries tracing  too short to tell")


def test_finish_prints_the_kills_of_the_mode() -> None:
    display, out = _display()
    result = ModeResult("lru", oom_kills=3, restarts=3)
    display.finish(result)
    assert out.getvalue().strip() == "lru    done: OOM kills 3"
    display.finish(ModeResult("lru", error="boom"))
    assert out.getvalue().splitlines()[-1] == "lru    error: OOM kills 0"


def test_counter_totals_survive_a_restart() -> None:
    totals = CounterTotals()
    assert [totals.update("hits", v) for v in (0, 5, 12)] == [0, 5, 12]
    # the API restarted: its counter starts again from 0, the total keeps counting
    assert [totals.update("hits", v) for v in (0, 3, 4)] == [12, 15, 16]
    assert totals.update("misses", 7) == 7  # each counter on its own


def test_a_new_process_that_counted_more_than_the_old_one_is_still_a_restart() -> None:
    totals = CounterTotals()
    assert [totals.update("hits", v, pid=100) for v in (5, 10)] == [5, 10]
    assert totals.update("hits", 15, pid=101) == 25  # first reading of the new process, already past 10


def _result_with(rss_mib: list[float], fill: bool = False) -> ModeResult:
    result = ModeResult("lru")
    for t, mib in enumerate(rss_mib):
        s = _sample(float(t), rss_bytes=int(mib * MIB), requests_total=100 * t)
        result.samples.append(s)
    return result


def test_the_live_view_gives_the_judges_verdict_and_a_class_only_for_a_leak() -> None:
    flat = _result_with([60.0] * 40)
    flat.alloc = {"traced_growth_bytes": 5 * MIB, "rss_growth_bytes": 6 * MIB}  # a window where something grew
    assert _plain(live_verdict(flat, 0)) == "bounded"  # a bounded mode has no leak to classify
    leaking = _result_with([60.0 + t for t in range(40)])
    leaking.alloc = flat.alloc
    assert _plain(live_verdict(leaking, 0)) == "leaking 60.0 MiB/min (python objects)"
    assert _plain(live_verdict(_result_with([60.0] * 5), 0)) == "too short to tell"


def test_verdict_table_columns_are_labelled_in_mib() -> None:
    table = verdict_table({"leaky": {"verdict": "leaking", "leak_rate_mib_per_min": 80.25, "rss_start_mib": 60.2,
                                     "rss_peak_mib": 190.7, "rss_end_mib": 70.0, "oom_kills": 2, "requests": 900,
                                     "failures": 12, "p95_ms": 4.4}})  # fmt: skip
    out = io.StringIO()
    Console(file=out, width=150).print(table)
    text = out.getvalue()
    assert "MiB/min" in text and "MiB" in str(table.caption)
    assert "80.2" in text and "60→191→70" in text
