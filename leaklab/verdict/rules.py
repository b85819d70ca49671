"""The judge's thresholds, and the sentences that state them (the report, the README and ``--help`` quote them)."""

from __future__ import annotations

from typing import Any

# what counts as a leak
TOLERANCE_MIB_PER_MIN = 0.25  # growth slower than this is not called a leak (leaklab check --max-growth-mib-per-min)
GROWTH_SHARE = 0.05  # ... unless, over days, it adds this share of the process' memory within the window
RESOLUTION_MIB_PER_MIN = 2.0  # "bounded" needs the rate's 95% upper bound under this (or under the tolerance)
READING_NOISE_MIB = 0.1  # resident memory is never trusted to better than this: it moves by pages with the allocator
LEVELLED_RATIO = 0.5  # the latest third rising at under half the rate before it: memory is levelling off

# how much must be seen
MIN_SPAN_S = 10.0  # a trend is fitted over at least this many seconds of judged readings
MIN_POINTS = 8

# restarts, warm-up and excluded windows (prepare.py)
RESTART_DROP_SHARE = 0.25  # a fall of at least a quarter of the level ...
RESTART_RISE_SHARE = 0.5  # ... giving back at least half of what the process had gained: a restart
SETTLE_S = 3.0  # after a process starts, and after the load starts, before its memory is judged
CLOCK_SLACK_S = 0.1  # readings a second apart drift by milliseconds: a settle counts whole readings
AFTER_EXCLUDED_S = 1.5  # after an excluded window (tracing allocations): its snapshot's memory settles
FULL = 0.98  # bounded structures this full have finished filling

# a GC sawtooth: sharp drops, each far larger than the usual step between readings (sawtooth.py)
SAWTOOTH_DROP_SCALES = 5.0
SAWTOOTH_MIN_TEETH = 4

# a label leak: the number of series on /metrics climbing with the traffic
SERIES_MIN_PER_REQUEST = 0.1
SERIES_MIN_PER_MIN = 60.0  # when the request count is not known
SERIES_MIN_POINTS = 4  # scrapes of the page: a large page is read less often than memory

RULE = (
    "leaking if the process was killed at its memory limit, or if its memory is still rising at the end of the "
    f"window: the fitted rate is at least the tolerance ({TOLERANCE_MIB_PER_MIN:g} MiB/min by default) or adds "
    f"{GROWTH_SHARE:.0%} of the process' memory over the window (a slow leak seen over days; not when you set the "
    "tolerance yourself), its 95% "
    f"interval is above zero, it added at least {3 * READING_NOISE_MIB:g} MiB over the window, it has not "
    "levelled off (the latest third rising at under half the rate before it) and it reaches above what the "
    "process held earlier; bounded if the rate's 95% upper bound is under "
    f"{RESOLUTION_MIB_PER_MIN:g} MiB/min (or under the tolerance, if higher) or the readings never spread more "
    "than that rate allows over the window (or over the whole stretch whose latest third levelled off), if memory "
    "moved less than "
    f"{2 * READING_NOISE_MIB:g} MiB over the window (readings are trusted to {READING_NOISE_MIB:g} MiB), or if it "
    "rises and falls back (giving back over half its range); inconclusive otherwise, or with fewer "
    f"than {MIN_POINTS} readings over {MIN_SPAN_S:g} s. The trend is fitted after each process' warm-up (the "
    f"first {SETTLE_S:g} s of the process and of the load, and until its bounded caches are full), per process "
    "(a restart starts a new line: a climb that repeats across restarts is a leak), over the latest trend when "
    "the readings break into two (a step, a warm-up that then holds, a late start), and over the level of each "
    "tooth of a GC sawtooth. Its interval allows for readings that move together (lag-1 autocorrelation). "
    "The /metrics series count is judged the same way: rising by at least "
    f"{SERIES_MIN_PER_REQUEST:g} series per request is a label leak"
)


def thresholds(tolerance_mib_per_min: float | None = None) -> dict[str, Any]:
    """The thresholds as recorded in summary.json."""
    return {
        "tolerance_mib_per_min": tolerance_mib_per_min or TOLERANCE_MIB_PER_MIN,
        "growth_share": GROWTH_SHARE,
        "resolution_mib_per_min": RESOLUTION_MIB_PER_MIN,
        "levelled_ratio": LEVELLED_RATIO,
        "min_span_s": MIN_SPAN_S,
        "min_points": MIN_POINTS,
        "reading_noise_mib": READING_NOISE_MIB,
        "settle_s": SETTLE_S,
        "after_excluded_s": AFTER_EXCLUDED_S,
        "series_min_per_request": SERIES_MIN_PER_REQUEST,
        "rule": RULE,
    }
