"""The partitions of an asset: counts by status, a page of keys with their status in the
space's order, and the status matrix the asset page draws. Launching one partition goes through
``POST /api/v1/runs`` with ``partition``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from legato.graph.snapshot import NodeSnapshot
from legato.store.partitions import KeyStatus, dynamic_lookup, status_counts
from legato.store.web_queries import key_statuses
from legato.web.api._convert import decode_key_cursor, encode_key_cursor
from legato.web.api.params import Defs, NodeKey, State
from legato.web.catalog import Definitions
from legato.web.errors import ApiError
from legato.web.partition_view import (
    MAX_COLUMNS,
    MAX_ROWS,
    dimensions,
    key_page,
    kind_of,
    matrix,
    space_of,
    time_dimension,
)
from legato.web.policy import V1
from legato.web.schemas import clean_text
from legato.web.schemas_ops import (
    AssetPartitionsOut,
    MatrixRowOut,
    PartitionCountsOut,
    PartitionDimensionOut,
    PartitionKeyOut,
    PartitionMatrixOut,
)

router = APIRouter(prefix=V1, tags=["partitions"])

KeyValue = Annotated[
    str | None, Query(max_length=1024), AfterValidator(lambda v: v and clean_text(v))
]


def _node(defs: Definitions, key: str) -> NodeSnapshot:
    node = defs.nodes.get(key)
    if node is None:
        raise ApiError(
            404,
            f"no asset or task {key!r} in the current definitions",
            field="key",
            hint="see GET /api/v1/definitions for the keys that exist",
        )
    return node


def _key_out(key: str, found: Mapping[str, KeyStatus]) -> PartitionKeyOut:
    status = found.get(key)
    if status is None:
        return PartitionKeyOut(key=key, status="missing")
    return PartitionKeyOut(
        key=key,
        status=status.status,
        run_id=status.run_id,
        materialized_at=status.materialized_at,
    )


@router.get("/assets/{key}/partitions", response_model=AssetPartitionsOut)
def asset_partitions(
    key: NodeKey,
    state: State,
    defs: Defs,
    order: Literal["newest", "oldest"] = "newest",
    cursor: Annotated[str | None, Query(max_length=6000)] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="keys per page")] = 100,
) -> AssetPartitionsOut:
    """The asset's partition space, how many keys are materialized, failed, in progress and
    missing, and a page of keys with their status (newest first by default)."""
    node = _node(defs, key)
    space = space_of(key, node.partitions)
    dynamic = dynamic_lookup(state.store)
    keys = space.keys(None, dynamic)
    after = decode_key_cursor(cursor) if cursor else None
    page, last = key_page(keys, after=after, limit=limit, newest_first=order == "newest")
    found = key_statuses(state.store, key, page)
    # Counted from the store's per-key status table in one grouped query; a key that has left
    # the space since (a removed dynamic key) still counts until it is materialized again.
    counts = status_counts(state.store, key)
    total = len(keys)
    return AssetPartitionsOut(
        asset=key,
        summary=space.summary(),
        partitions=dict(node.partitions or {}),
        dimensions=[
            PartitionDimensionOut(name=name, kind=kind_of(dim), count=dim.count(None, dynamic))
            for name, dim in dimensions(space)
        ],
        time_dimension=time_dimension(space),
        counts=PartitionCountsOut(
            total=total,
            materialized=counts["materialized"],
            failed=counts["failed"],
            in_progress=counts["in_progress"],
            missing=max(0, total - sum(counts.values())),
        ),
        keys=[_key_out(k, found) for k in page],
        next_cursor=encode_key_cursor(last) if last is not None else None,
    )


@router.get("/assets/{key}/partitions/matrix", response_model=PartitionMatrixOut)
def partition_matrix(
    key: NodeKey,
    state: State,
    defs: Defs,
    dimension: Annotated[
        str | None, Query(max_length=64, description="the dimension along the columns")
    ] = None,
    columns: Annotated[int, Query(ge=1, le=MAX_COLUMNS)] = 31,
    rows: Annotated[int, Query(ge=1, le=MAX_ROWS)] = 20,
    end: KeyValue = None,
    row_after: KeyValue = None,
) -> PartitionMatrixOut:
    """A grid of statuses: the time dimension (or ``dimension``) along the columns, ending at
    ``end`` (default: the newest), and the other dimensions' keys along the rows, after
    ``row_after``; a one-dimension space is laid out as its keys in rows of ``columns``."""
    node = _node(defs, key)
    space = space_of(key, node.partitions)
    grid = matrix(
        space,
        dimension=dimension,
        columns=columns,
        rows=rows,
        end=end,
        row_after=row_after,
        now=None,
        dynamic=dynamic_lookup(state.store),
    )
    found = key_statuses(state.store, key, grid.cell_keys())
    return PartitionMatrixOut(
        asset=key,
        layout="grid" if grid.layout == "grid" else "sequence",
        column_dimension=grid.column_dimension,
        row_dimension=grid.row_dimension,
        columns=grid.columns,
        rows=[
            MatrixRowOut(
                label=label,
                cells=[None if k is None else _key_out(k, found) for k in cells],
            )
            for label, cells in grid.rows
        ],
        earlier_end=grid.earlier_end,
        later_end=grid.later_end,
        next_row_after=grid.next_row_after,
    )
