"""A second locustfile ``leaklab run`` loads beside the repo's: write Locust's CSV history every second.

Locust buffers its ``*_stats_history.csv`` for seconds by default; the lab reads that file once a second
for its live display and its samples, so it asks for a flush every second (the way Locust's docs show).
It defines no users: the traffic comes from ``locustfiles/locustfile.py``.
"""

import locust.stats

locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1
