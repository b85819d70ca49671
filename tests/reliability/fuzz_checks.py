"""Our own schemathesis check, loaded by ``st run`` through ``SCHEMATHESIS_HOOKS``.

Every error answer of the API is JSON of the one documented shape: ``{"error": "<one line>", ...}``.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def errors_have_the_documented_shape(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 4xx/5xx answer is a JSON object whose ``error`` is one non-empty line."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"a {response.status_code} answered {content_type!r}"
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("error"), str), f"no 'error' line in {body!r}"
    assert body["error"] and "\n" not in body["error"], f"'error' is not one line: {body['error']!r}"
    return None
