"""``leaklab judge``: the lab's verdict (``leaklab.verdict``) on any memory series, and the verdict measured.

Three sources, one verdict per series: a CSV file (``csvfile``), a leaklab run directory (``rundir``, one
series per mode) and Prometheus' ``query_range`` (``prometheus``, one series per returned label set). Each
source reads what it is given into ``inputs.Input``; ``output`` prints it. ``--bench`` scores the verdict
and three baselines (``baselines``) on the labelled corpus (``corpus``): ``score`` and ``bench``.
"""
