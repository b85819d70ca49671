"""``leaklab judge --csv FILE``: one memory series from a CSV file with a header row.

The time column (``--time-col``, default the first column named ``t``, ``time`` or ``timestamp``) holds
seconds or ISO 8601 times (a time without a zone is taken as UTC); the value column (``--value-col``,
default the first other column that is all numbers) holds bytes. Empty cells and ``NaN``, ``null`` or
``NA`` are missing readings; a row without a time is skipped. Comma, semicolon and tab separators work.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..args import shown
from ..verdict import Context
from .inputs import BadInput, Input, tidy

TIME_NAMES = ("t", "time", "timestamp")
MISSING = {"", "nan", "null", "na", "n/a", "none", "-"}


def number(cell: str) -> float | None:
    """A cell as a number, ``None`` for a missing one; ``ValueError`` when it is text."""
    text = cell.strip()
    if text.lower() in MISSING:
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def seconds(cell: str) -> float:
    """A time cell as seconds: a number of seconds, or an ISO 8601 time (UTC when it names no zone)."""
    text = cell.strip()
    try:
        return float(text)
    except ValueError:
        pass
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BadInput(f"--csv: no such file: {path}") from None
    except IsADirectoryError:
        raise BadInput(f"--csv: {path} is a directory, not a CSV file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"--csv: cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not text.strip():
        raise BadInput(f"--csv: {path} is empty")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(text.splitlines(), dialect) if any(cell.strip() for cell in row)]
    header = [cell.strip() for cell in rows[0]]
    if all(_is_number(cell) for cell in header):
        raise BadInput(f"--csv: {path} has no header row (its first row is numbers: {shown(','.join(header))})")
    return header, rows[1:]


def _is_number(cell: str) -> bool:
    try:
        return number(cell) is not None
    except ValueError:
        return False


def _column(header: Sequence[str], name: str, flag: str, path: Path) -> int:
    if name in header:
        return header.index(name)
    lowered = [h.lower() for h in header]
    if name.lower() in lowered:
        return lowered.index(name.lower())
    raise BadInput(f"{flag}: no column {shown(name)} in {path} (columns: {', '.join(map(shown, header))})")


def _numeric(rows: Sequence[Sequence[str]], index: int) -> bool:
    cells = [row[index] for row in rows if index < len(row)]
    return any(_is_number(c) for c in cells) and all(_is_number(c) or c.strip().lower() in MISSING for c in cells)


def read_csv(
    path: Path,
    time_col: str | None = None,
    value_col: str | None = None,
    process_col: str | None = None,
    context: Context | None = None,
) -> Input:
    header, rows = _rows(path)
    if not rows:
        raise BadInput(f"--csv: {path} has a header but no rows")
    if time_col is not None:
        t_index = _column(header, time_col, "--time-col", path)
    else:
        found = [i for i, h in enumerate(header) if h.lower() in TIME_NAMES]
        if not found:
            raise BadInput(
                f"--csv: no column named t, time or timestamp in {path}: name the time column with --time-col "
                f"(columns: {', '.join(map(shown, header))})"
            )
        t_index = found[0]
    if value_col is not None:
        v_index = _column(header, value_col, "--value-col", path)
    else:
        numeric = [i for i in range(len(header)) if i != t_index and _numeric(rows, i)]
        if not numeric:
            raise BadInput(f"--csv: no numeric column besides {shown(header[t_index])} in {path}: use --value-col")
        v_index = numeric[0]
    p_index = _column(header, process_col, "--process-col", path) if process_col is not None else None
    times: list[float] = []
    values: list[float | None] = []
    process: list[str | None] = []
    for line, row in enumerate(rows, start=2):
        cell = row[t_index] if t_index < len(row) else ""
        if not cell.strip():
            continue
        try:
            times.append(seconds(cell))
        except ValueError:
            raise BadInput(
                f"--csv: line {line}: time {shown(cell)} in column {shown(header[t_index])} is neither seconds "
                "nor an ISO 8601 time"
            ) from None
        raw = row[v_index] if v_index < len(row) else ""
        try:
            values.append(number(raw))
        except ValueError:
            raise BadInput(
                f"--csv: column {shown(header[v_index])} is not numeric (line {line}: {shown(raw)}); "
                "the value column must hold bytes"
            ) from None
        process.append((row[p_index].strip() or None) if p_index is not None and p_index < len(row) else None)
    if not times:
        raise BadInput(f"--csv: no row of {path} has a time in column {shown(header[t_index])}")
    name = header[v_index]
    series = tidy(times, values, process if p_index is not None else None, name)
    return Input(name, series, context or Context())
