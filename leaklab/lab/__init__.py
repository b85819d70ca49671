"""The local lab (``leaklab run``, ``leaklab compare``, ``leaklab report``): the API under load and a memory limit.

- ``run``, ``compare``: the commands; ``options``: the options they share.
- ``runner``: one mode's run loop (start, restart after an OOM kill, sample, stop everything).
- ``limits``: the memory limit (a cgroup, a systemd scope or a watchdog); ``load``: Locust as a child.
- ``sampler``: a sample a second; ``alloc``: the tracemalloc recording of allocation sites.
- ``result``: what a mode's run recorded; ``verdict``: leaking or bounded; ``live``: the terminal view.
- ``report/``: the report directory (summary.json, samples.csv, charts, report.html).
"""
