"""``leaklab bench``: each API mode side by side with the story's Node.js server and two ceilings.

``runner`` drives the run, ``servers`` starts each contestant fresh on a free loopback port, ``load``
drives it (wrk, or Locust when wrk is missing), ``report`` prints the table and writes ``bench.json``
and the generated part of ``BENCHMARKS.md``.
"""
