"""Partition spaces as the web shows them: rebuilt from the snapshot's description (pure data, no
user code), pages of keys in the space's order, and a bounded status matrix.

A space's keys are a lazy sequence (time windows and products are computed by index), so a page
of keys or a matrix costs the same whether the space holds a hundred keys or a million; only the
keys shown are ever listed, and only their statuses are read from the store.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from legato.definitions.partitions import (
    DynamicLookup,
    PartitionSpace,
    ProductPartitions,
    TimeWindowPartitions,
)
from legato.definitions.partitions.restore import space_from_description
from legato.errors import LegatoError
from legato.web.errors import ApiError

MAX_COLUMNS = 62
MAX_ROWS = 50


def space_of(asset: str, description: Mapping[str, Any] | None) -> PartitionSpace:
    """The partition space of ``asset`` from its snapshot description (404 if unpartitioned)."""
    if not description:
        raise ApiError(
            404,
            f"asset {asset!r} is not partitioned",
            code="not_partitioned",
            field="key",
            hint=f"GET /api/v1/assets/{asset} shows its materializations",
        )
    return _rebuild(json.dumps(description, sort_keys=True))


@lru_cache(maxsize=256)
def _rebuild(description: str) -> PartitionSpace:
    try:
        space = space_from_description(json.loads(description))
    except (LegatoError, AttributeError, KeyError, TypeError, ValueError) as exc:
        raise ApiError(
            409,
            f"the snapshot describes a partition space this server cannot rebuild: {exc}",
            code="unreadable_partitions",
            hint="serve the UI with the Legato version that wrote the snapshot",
        ) from None
    assert space is not None
    return space


def dimensions(space: PartitionSpace) -> list[tuple[str, PartitionSpace]]:
    if isinstance(space, ProductPartitions):
        return list(space.dimensions)
    return [(space.dimension_names[0], space)]


def kind_of(space: PartitionSpace) -> str:
    return str(space.describe().get("kind", type(space).__name__))


def time_dimension(space: PartitionSpace) -> str | None:
    for name, dim in dimensions(space):
        if isinstance(dim, TimeWindowPartitions):
            return name
    return None


def dynamic_sets_of(description: Any) -> set[str]:
    """Names of the dynamic sets a snapshot's partition description uses (any nesting)."""
    found: set[str] = set()
    if isinstance(description, Mapping):
        if description.get("kind") == "dynamic" and isinstance(description.get("name"), str):
            found.add(description["name"])
        for value in description.values():
            found |= dynamic_sets_of(value)
    elif isinstance(description, list):
        for item in description:
            found |= dynamic_sets_of(item)
    return found


def _position(keys: Sequence[str], value: str, field: str) -> int:
    try:
        return keys.index(value)
    except ValueError:
        shown = value if len(value) <= 80 else value[:77] + "..."
        raise ApiError(
            400,
            f"{shown!r} is not a key of this partition space (now)",
            field=field,
            hint="pass a value this API returned, or omit it to start at the newest",
        ) from None


def key_page(
    keys: Sequence[str], *, after: str | None, limit: int, newest_first: bool
) -> tuple[list[str], str | None]:
    """Up to ``limit`` keys following ``after`` in the space's order (or its reverse), and the
    key to continue after (None on the last page)."""
    total = len(keys)
    if newest_first:
        stop = _position(keys, after, "cursor") if after is not None else total
        start = max(0, stop - limit)
        page = list(keys[start:stop])[::-1]
        more = start > 0
    else:
        start = _position(keys, after, "cursor") + 1 if after is not None else 0
        stop = min(total, start + limit)
        page = list(keys[start:stop])
        more = stop < total
    return page, (page[-1] if more and page else None)


@dataclass(frozen=True)
class Matrix:
    """Full keys laid out in rows and columns (None where a row has no key for a column)."""

    layout: str
    column_dimension: str | None
    row_dimension: str | None
    columns: list[str]
    rows: list[tuple[str, list[str | None]]]
    earlier_end: str | None
    later_end: str | None
    next_row_after: str | None

    def cell_keys(self) -> list[str]:
        return [k for _, cells in self.rows for k in cells if k is not None]


def _window(
    keys: Sequence[str], end: str | None, size: int
) -> tuple[list[str], str | None, str | None]:
    """``size`` keys ending at ``end`` (default: the newest), with the ends of the windows before
    and after it."""
    total = len(keys)
    stop = _position(keys, end, "end") + 1 if end is not None else total
    start = max(0, stop - size)
    earlier = keys[start - 1] if start > 0 else None
    later = keys[min(total, stop + size) - 1] if stop < total else None
    return list(keys[start:stop]), earlier, later


def matrix(
    space: PartitionSpace,
    *,
    dimension: str | None,
    columns: int,
    rows: int,
    end: str | None,
    row_after: str | None,
    now: datetime | None,
    dynamic: DynamicLookup,
) -> Matrix:
    """A grid of a product space, time (or ``dimension``) along the columns and the other
    dimensions along the rows, or the keys of a one-dimension space in rows of ``columns``;
    at most MAX_COLUMNS columns and MAX_ROWS rows."""
    columns, rows = min(columns, MAX_COLUMNS), min(rows, MAX_ROWS)
    names = [name for name, _ in dimensions(space)]
    chosen = dimension or time_dimension(space) or names[0]
    if chosen not in names:
        raise ApiError(
            400,
            f"the space has no dimension {chosen[:80]!r}",
            field="dimension",
            hint=f"its dimensions are {', '.join(names)}",
        )
    if not isinstance(space, ProductPartitions):
        if row_after is not None:
            raise ApiError(
                400,
                "row_after applies to spaces of several dimensions",
                field="row_after",
                hint="page a one-dimension space with end",
            )
        shown, earlier, later = _window(space.keys(now, dynamic), end, columns * rows)
        lines = [shown[i : i + columns] for i in range(0, len(shown), columns)]
        return Matrix(
            "sequence",
            chosen,
            None,
            [],
            [(line[0], [*line]) for line in lines],
            earlier,
            later,
            None,
        )
    others = [(n, s) for n, s in space.dimensions if n != chosen]
    # Dimension names are the product's, which may differ from a space's own name.
    rest = ProductPartitions(dict(others)) if len(others) > 1 else None
    row_space = rest if rest is not None else others[0][1]
    shown, earlier, later = _window(space.dimension(chosen).keys(now, dynamic), end, columns)
    row_keys = row_space.keys(now, dynamic)
    first = _position(row_keys, row_after, "row_after") + 1 if row_after is not None else 0
    labels = list(row_keys[first : first + rows])
    more = first + rows < len(row_keys)
    grid: list[tuple[str, list[str | None]]] = []
    for label in labels:
        values = dict(rest.split(label)) if rest is not None else {others[0][0]: label}
        cells: list[str | None] = []
        for column in shown:
            values[chosen] = column
            cells.append(",".join(f"{n}={values[n]}" for n in names))
        grid.append((label, cells))
    return Matrix(
        "grid",
        chosen,
        ",".join(n for n, _ in others),
        shown,
        grid,
        earlier,
        later,
        labels[-1] if more and labels else None,
    )
