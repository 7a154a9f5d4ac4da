"""A calendar-like matrix of partition statuses for the terminal."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.table import Table
from rich.text import Text

from legato.definitions.partitions import (
    DynamicLookup,
    PartitionSpace,
    ProductPartitions,
    TimeWindowPartitions,
)
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


def _cell(key: str, statuses: Mapping[str, KeyStatus], stale: set[str]) -> tuple[str, str]:
    if key in stale:
        return CELL["stale"]
    found = statuses.get(key)
    return CELL[found.status if found else "missing"]


def status_matrix(
    space: PartitionSpace,
    keys: Sequence[str],
    statuses: Mapping[str, KeyStatus],
    stale: set[str],
    dynamic: DynamicLookup | None,
) -> Table | Text:
    """Rows x columns of status cells: months x days for a daily space, other dimension x time
    for a product with a time dimension, else rows of keys in order."""
    time_dim = _time_dimension(space)
    if isinstance(space, ProductPartitions) and time_dim is not None:
        all_times = dim_space_keys = space.dimension(time_dim).keys(dynamic=dynamic)
        touched = [space.split(k)[time_dim] for k in statuses]
        end = all_times.index(max(touched)) + 1 if touched else len(all_times)
        times = list(dim_space_keys[max(0, end - MAX_COLUMNS) : end])
        table = Table(show_edge=False, box=None, header_style="bold", pad_edge=False)
        table.add_column("")
        table.add_column(f"{time_dim}: {times[0]} … {times[-1]}" if times else time_dim)
        rows: dict[str, dict[str, str]] = {}
        for key in keys:
            parts = space.split(key)
            rest = ",".join(f"{d}={v}" for d, v in parts.items() if d != time_dim)
            if parts[time_dim] in times and (rest in rows or len(rows) < MAX_ROWS):
                rows.setdefault(rest, {})[parts[time_dim]] = key
        for rest, by_time in rows.items():
            line = Text()
            for t in times:
                symbol, style = _cell(by_time[t], statuses, stale) if t in by_time else (" ", "")
                line.append(symbol, style=style)
            table.add_row(rest, line)
        return table
    if isinstance(space, TimeWindowPartitions) and space.cadence in ("daily", "hourly"):
        return _calendar(keys, statuses, stale, by_day=space.cadence == "hourly")
    text = Text()
    for key in list(keys)[: MAX_ROWS * MAX_COLUMNS]:
        symbol, style = _cell(key, statuses, stale)
        text.append(symbol, style=style)
    return text


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
    for key in keys[max(0, len(keys) - MAX_ROWS * (24 if by_day else 31)) :]:
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
