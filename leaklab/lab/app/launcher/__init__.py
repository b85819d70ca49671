"""The launcher: serves the user's app in the user's own Python, with the lab's allocation sites beside it.

It runs in the interpreter that has the user's dependencies (``--python``), so it imports only the
standard library and the server that environment already has (``servers``); nothing of leaklab's. The
parent starts it as ``python -c BOOTSTRAP launcher/__init__.py ...`` (``leaklab/lab/app/target.py``),
which loads this package under the private name ``leaklab_launcher``: run as a script, its folder would
sit first on ``sys.path`` and shadow the user's modules.

- ``main``: the arguments, the one-line errors (``LAUNCH_ERROR`` marks them in the log), the order of things.
- ``appload``: import ``MODULE:ATTR`` from ``--app-dir`` and tell ASGI from WSGI.
- ``servers``: uvicorn for ASGI; for WSGI Werkzeug's threaded server, else the standard library's.
- ``debugport``: the lab's ``/debug/memory`` protocol on a second loopback port, never on the app's routes.
"""
