"""``leaklab attach``: memray attached to the running API for a bounded time, without restarting it.

``target`` finds the process (by PID or by the port it listens on) and turns every reason an attach
cannot work into one line; ``capture`` runs ``memray attach``/``detach`` and writes the same files as
``leaklab profile``.
"""
