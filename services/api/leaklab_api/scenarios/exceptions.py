"""Exceptions kept for later reporting with their tracebacks, whose frames keep request data alive.

Where it turns up: an error list or "last errors" page, a retry queue, a batch job that collects
failures to report at the end, or ``sys.exc_info()`` stored on a long-lived object. An exception keeps
its ``__traceback__``; the traceback keeps every frame from the ``try`` down to the ``raise``; each frame
keeps all of its local variables, however large, for as long as the exception is kept.

Which line leaks: tracemalloc names ``document = memoryview(body).tobytes()`` in ``_enrich``: a local of
the failing frame; the cause is ``self.errors.append(exc)`` in ``Exceptions.on_request``.

The fix (``fixed``): keep what the report needs, not the exception: a formatted summary
(``traceback.format_exception(exc)`` or ``TracebackException(..., capture_locals=False)``), in a bounded
``deque``; if an exception must be kept, ``exc.with_traceback(None)`` drops the frames.
"""

from __future__ import annotations

import traceback
from collections import deque
from collections.abc import MutableSequence

from prometheus_client import CollectorRegistry

BOUND = 50  # the fix reports this many recent errors


class EnrichmentError(Exception):
    """The enrichment step rejected a document."""


def _enrich(key: str, body: bytes) -> bytes:
    document = memoryview(body).tobytes()  # a local: the traceback's frame keeps it
    if document:
        raise EnrichmentError(f"enrichment rejected document {key}")
    return document


class Exceptions:
    """Every request's enrichment fails; the failures are kept for an error report."""

    def __init__(self, fixed: bool, registry: CollectorRegistry) -> None:
        self.fixed = fixed
        self.errors: MutableSequence[BaseException | str] = deque(maxlen=BOUND) if fixed else []

    def on_request(self, key: str, body: bytes) -> None:
        try:
            _enrich(key, body)
        except EnrichmentError as exc:
            if self.fixed:
                self.errors.append("".join(traceback.format_exception_only(exc)))
            else:
                self.errors.append(exc)  # THE LEAK (leaky): exc -> traceback -> frames -> locals
