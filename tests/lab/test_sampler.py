"""The sampler's bookkeeping: Locust's figures backfilled at each sample's time."""

from __future__ import annotations

from leaklab.lab.sampler import Sample, backfill_load


def test_backfill_interpolates_between_locusts_rows_and_never_past_them() -> None:
    # Locust stamps each row with the whole second it was written in (read as its middle, +0.5 s):
    # no request by the row of t=10, 100 by the row of t=11
    history = [(1e9 + 10, 0, 0, 10), (1e9 + 11, 100, 1, 10)]
    samples = [Sample("m", t, 1e9 + t) for t in (10.2, 11.0, 11.49, 12.0)]
    backfill_load(samples, history)
    sent = [s.requests_total for s in samples]
    assert sent[0] == 0  # before the first row's middle: nothing counted yet
    assert sent[1] == 50  # half way between the rows' middles
    assert sent[2] == 99  # it read 149 when Locust had sent 100: extrapolated 49% past the row
    assert sent[3] == 100  # past the last row: its count
