"""``leaklab bench``: each API mode side by side with the story's Node.js server and two ceilings.

``command`` parses the options and drives the rounds; ``servers`` starts each contestant fresh on a free
loopback port (``ceiling`` holds the two ceilings); ``runner`` measures one round of one contestant, with
``load`` (wrk, or Locust with ``locustfile`` when wrk is missing); ``results`` holds the rounds' data and
their summary, ``targets`` what they should reach; ``table``, ``markdown`` and ``document`` render the
terminal table, the generated part of BENCHMARKS.md and ``bench.json``.
"""
