"""A FastAPI service that turned Python's cycle collector off for latency: every request's cycle stays.

Pattern: ``gc.disable()`` at start-up (or ``gc.set_threshold(0)``) because collector pauses showed up in
p99 latency. Reference counting still frees most objects the moment they are unused, but never a
reference cycle: only the collector frees those. Here each request builds a small document tree whose
nodes point to their parent and the parent to its children, a cycle, so every request's tree stays in
memory after the response is sent.

Which line: tracemalloc names the line that allocates what the cycles hold, the node's ``text`` in
``Node.__init__``; the cause is ``gc.disable()`` together with ``self.parent = parent``.

The fix: keep the collector on (if its pauses matter, ``gc.freeze()`` after start-up moves the long-lived
objects out of its way, as the lab's own API does), or make the back reference weak:
``self.parent = weakref.ref(parent)``, so the tree is freed by reference counting alone.

    leaklab check --app app:app --app-dir examples/fastapi_gc_cycles --path '/orders/{uuid}'
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

LINES_PER_ORDER = 12
TEXT_BYTES = 900

gc.disable()  # "collector pauses hurt our p99": it never runs again

app = FastAPI(title="orders")


class Node:
    """A node of a rendered order: a line of text, its parent and its children."""

    def __init__(self, label: str, parent: Node | None = None) -> None:
        self.parent = parent  # child -> parent, and below parent -> child: a cycle refcounting cannot free
        self.children: list[Node] = []
        self.text = f"{label}: ".ljust(TEXT_BYTES, ".")  # what each never-collected node holds
        if parent is not None:
            parent.children.append(self)


def render(order_id: str) -> Node:
    root = Node(f"order {order_id}")
    for n in range(LINES_PER_ORDER):
        Node(f"line {n} of order {order_id}", root)
    return root


@app.get("/orders/{order_id}")
async def order(order_id: str) -> dict[str, object]:
    tree = render(order_id)
    return {"order": order_id, "lines": len(tree.children)}
