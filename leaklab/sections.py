"""Generated sections of the repo's Markdown files (BENCHMARKS.md, RELIABILITY.md): replaced between markers.

The hand-written text around a section is kept; a file without the markers gets the section at its end.
"""

from __future__ import annotations

from pathlib import Path


def splice(text: str, generated: str, begin: str, end: str) -> str:
    """``text`` with the part from ``begin`` to ``end`` replaced by ``generated`` (which holds both markers)."""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + generated.rstrip("\n") + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + generated


def update_file(path: Path, generated: str, begin: str, end: str, heading: str) -> None:
    """Splice ``generated`` into the file at ``path`` (a new file starts with ``heading``)."""
    text = path.read_text() if path.exists() else f"{heading}\n\n"
    path.write_text(splice(text, generated, begin, end))
