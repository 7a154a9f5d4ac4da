"""A calendar-like matrix of partition statuses for the terminal.

Only the keys drawn are made (time and product spaces are indexed, never listed) and only their
statuses are read, so a matrix of a million-key space costs what one of a hundred keys does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from itertools import islice, product

from rich.table import Table
from rich.text import Text

from legato.definitions.partitions import (
    DynamicLookup,
    PartitionSpace,
    ProductPartitions,
    TimeWindowPartitions,
)
from legato.errors import PartitionError
from legato.store.partitions import KeyStatus

CELL = {
    "materialized": ("■", "green"),
    "stale": ("◆", "dark_orange"),
    "failed": ("✗", "red"),
    "in_progress": ("●", "yellow"),
    "missing": ("·", "bright_black"),
}
MAX_ROWS = 24
MAX_COLUMNS = 62

# keys -> (the status of those the store has seen, those of them that are stale)
ReadStatuses = Callable[[list[str]], tuple[Mapping[str, KeyStatus], set[str]]]


def _cell(key: str, statuses: Mapping[str, KeyStatus], stale: set[str]) -> tuple[str, str]:
    if key in stale:
        return CELL["stale"]
    found = statuses.get(key)
    return CELL[found.status if found else "missing"]


def status_matrix(
    space: PartitionSpace,
    dynamic: DynamicLookup | None,
    read: ReadStatuses,
    *,
    end: str | None = None,
) -> Table | Text:
    """Rows x columns of status cells: months x days for a daily space, other dimension x time
    for a product with a time dimension (its newest windows, or those up to ``end``), else rows
    of keys in order."""
    time_dim = _time_dimension(space)
    if isinstance(space, ProductPartitions) and time_dim is not None:
        return _grid(space, time_dim, dynamic, read, end)
    keys = space.keys(dynamic=dynamic)
    if isinstance(space, TimeWindowPartitions) and space.cadence in ("daily", "hourly"):
        by_day = space.cadence == "hourly"
        stop = _stop(space, keys, end)
        shown = list(keys[max(0, stop - MAX_ROWS * (24 if by_day else 31)) : stop])
        return _calendar(shown, *read(shown), by_day=by_day)
    shown = list(islice(keys, MAX_ROWS * MAX_COLUMNS))
    statuses, stale = read(shown)
    text = Text()
    for key in shown:
        symbol, style = _cell(key, statuses, stale)
        text.append(symbol, style=style)
    return text


def _stop(space: PartitionSpace, keys: Sequence[str], end: str | None) -> int:
    """The index after the last key shown: ``end``'s, or the newest key's."""
    if end is None:
        return len(keys)
    try:
        return space.index_of(end, dynamic=None) + 1
    except PartitionError as exc:
        raise PartitionError(f"--end {end!r}: {exc.message}", obj=end, hint=exc.hint) from None


def _grid(
    space: ProductPartitions,
    time_dim: str,
    dynamic: DynamicLookup | None,
    read: ReadStatuses,
    end: str | None,
) -> Table:
    times_space = space.dimension(time_dim)
    all_times = times_space.keys(dynamic=dynamic)
    stop = _stop(times_space, all_times, end)
    times = list(all_times[max(0, stop - MAX_COLUMNS) : stop])
    others = [(n, d.keys(dynamic=dynamic)) for n, d in space.dimensions if n != time_dim]
    rows = list(islice(product(*(axis for _, axis in others)), MAX_ROWS))
    cells: dict[str, list[str]] = {}
    for values in rows:
        label = ",".join(f"{n}={v}" for (n, _), v in zip(others, values, strict=True))
        by_name = dict(zip((n for n, _ in others), values, strict=True))
        cells[label] = [
            ",".join(f"{n}={t if n == time_dim else by_name[n]}" for n in space.dimension_names)
            for t in times
        ]
    statuses, stale = read([k for row in cells.values() for k in row])
    table = Table(show_edge=False, box=None, header_style="bold", pad_edge=False)
    table.add_column("")
    table.add_column(f"{time_dim}: {times[0]} … {times[-1]}" if times else time_dim)
    for label, row in cells.items():
        line = Text()
        for key in row:
            symbol, style = _cell(key, statuses, stale)
            line.append(symbol, style=style)
        table.add_row(label, line)
    return table


def _time_dimension(space: PartitionSpace) -> str | None:
    if isinstance(space, ProductPartitions):
        for name in space.dimension_names:
            if isinstance(space.dimension(name), TimeWindowPartitions):
                return name
    return None


def _calendar(
    keys: Sequence[str], statuses: Mapping[str, KeyStatus], stale: set[str], *, by_day: bool
) -> Table:
    """Daily keys as months x days; hourly keys as days x hours (the most recent rows)."""
    width = 10 if by_day else 7  # "YYYY-MM-DD" rows for hours, "YYYY-MM" rows for days
    rows: dict[str, list[str]] = {}
    for key in keys:
        rows.setdefault(key[:width], []).append(key)
    table = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
    table.add_column("")
    table.add_column("hours 0…23" if by_day else "days 1…31")
    for label, row_keys in list(rows.items())[-MAX_ROWS:]:
        line = Text()
        for key in row_keys:
            symbol, style = _cell(key, statuses, stale)
            line.append(symbol, style=style)
        table.add_row(label, line)
    return table
