"""The report's charts say only what is true of the data they draw."""

from __future__ import annotations

import matplotlib.pyplot as plt

from leaklab.lab.report.charts import cache_figure
from leaklab.lab.sampler import Sample
from leaklab.units import MIB


def _samples(mode: str, entries: list[float]) -> list[Sample]:
    return [
        Sample(mode, float(t), 1e9 + t, 100, 1, 80 * MIB, 80 * MIB, 192 * MIB, cache_entries=n, evictions_total=0.0)
        for t, n in enumerate(entries)
    ]


def test_the_cache_chart_s_log_axis_starts_at_zero_entries() -> None:
    """A count of entries is never negative: no tick below 0, whether the cache is empty, bounded or leaking."""
    samples = {
        "leaky": _samples("leaky", [0.0, 10.0, 300.0, 2_000.0, 9_000.0]),
        "lru": _samples("lru", [0.0, 50.0, 50.0, 50.0, 50.0]),
    }
    fig = cache_figure(samples)
    try:
        fig.canvas.draw()
        top = fig.axes[0]
        assert top.get_yscale() == "symlog"
        assert top.get_ylim()[0] == 0
        assert top.get_ylim()[1] >= 9_000
        shown = [tick.get_position()[1] for tick in top.get_yticklabels() if tick.get_text()]
        assert shown and min(shown) >= 0, [tick.get_text() for tick in top.get_yticklabels()]
    finally:
        plt.close(fig)
