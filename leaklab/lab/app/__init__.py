"""Your own service in the lab: ``leaklab run --app MODULE:ATTR`` / ``--cmd '... {port}'``, and ``leaklab check``.

- ``options``: the flags that name the service and its load, checked before anything starts.
- ``target``: the two targets (your ASGI/WSGI app through the launcher; any command serving HTTP).
- ``processes``: their processes as the runner holds them, and why one stopped, in one line.
- ``launcher/``: what runs in *your* Python beside your app (standard library only).
"""
