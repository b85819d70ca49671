"""A Flask service that gives every order a logger of its own: the logging module keeps every logger forever.

Pattern: ``logging.getLogger(f"shop.orders.{order_id}")`` to tag an order's log lines, with a
``BufferingHandler`` that holds them so they can be shipped only if the order fails ("fingers-crossed"
logging). Loggers are registered by name in the logging module for the life of the process and are
never removed; each keeps its handler, and the handler every record it buffered (it empties only when
full). So each order leaves its logger, its handler and its records behind.

Which line: the records are allocated inside the standard library (``LogRecord`` in
``logging/__init__.py``), so tracemalloc's top site is a line of ``logging``; ``leaklab`` names it by
its caller in this file, the ``log.info`` line in ``price``. The cause is ``order_log``'s
``getLogger`` with the order id in the name.

The fix: one module-level logger, the order id in each record (``log.info(..., extra={"order": order_id})``
or a ``LoggerAdapter``), and a handler added once, at start-up.

    leaklab check --app app:app --app-dir examples/flask_order_loggers --path '/orders/{uuid}'
"""

from __future__ import annotations

import logging
import logging.handlers

from flask import Flask

ITEMS = (
    "apples", "bread", "coffee", "dates", "eggs", "flour", "grapes", "honey",
    "ice", "jam", "kale", "lemons", "milk", "nuts", "oats", "pears",
)  # fmt: skip

app = Flask(__name__)
logging.getLogger("shop.orders").setLevel(logging.INFO)  # every order's logger inherits it


def order_log(order_id: str) -> logging.Logger:
    log = logging.getLogger(f"shop.orders.{order_id}")  # a new logger per order, kept by logging for good
    if not log.handlers:
        log.addHandler(logging.handlers.BufferingHandler(capacity=1000))  # shipped if the order fails
    return log


def price(order_id: str) -> float:
    log = order_log(order_id)
    total = 0.0
    for n, item in enumerate(ITEMS, start=1):
        total += 1.25 * n
        log.info("order %s: priced %s at %.2f, running total %.2f", order_id, item, 1.25 * n, total)
    return total


@app.get("/orders/<order_id>")
def order(order_id: str) -> dict[str, object]:
    return {"order": order_id, "total": price(order_id)}
