from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..api.helpers import Client


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while Client.opened:
        Client.opened.pop().close()
