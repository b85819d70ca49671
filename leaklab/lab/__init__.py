"""The local lab (``leaklab run``, ``compare``, ``check``, ``report``): a target under load and a memory limit.

- ``run``, ``compare``, ``check``: the commands; ``options``: the options they share; ``experiment``: the
  runs and the report every one of them goes through.
- ``target``: what a run runs on, the lab's API by mode or scenario; ``app/``: your own service (your
  ASGI/WSGI app through the launcher, or a command) and the launcher that serves it in your Python.
- ``runner``: one target's run loop (start, restart after an OOM kill, sample, stop everything).
- ``limits``: the memory limit (a cgroup, a systemd scope or a watchdog); ``load``: Locust as a child.
- ``sampler``: a sample a second; ``alloc``: the tracemalloc recording of allocation sites.
- ``result``: what a mode's run recorded; ``verdict``: leaking or bounded; ``live``: the terminal view.
- ``report/``: the report directory (summary.json, samples.csv, charts, report.html).
"""
