"""Stale partitions of an asset: materialized before an upstream partition they read changed.

Counting them must not cost a look at every key an asset has. ``asset_latest`` is indexed by
asset, status and materialization time, so the work follows what changed upstream since the
asset's oldest materialization:

* an unpartitioned upstream (every key reads its one value): the keys materialized before it,
  counted in an index range;
* the key of the same name upstream (``Identity``): the upstream keys materialized after the
  asset's oldest key, each joined to the key it feeds;
* other mappings (roll-ups, windows, fan-ins): the keys materialized before the newest
  materialization upstream (an index range), each checked with the mapping.

``stale_among`` answers for a few keys (the cells of a matrix).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, func, select

from legato.definitions.partitions import DynamicLookup, Identity
from legato.definitions.partitions.bulk import upstream_of_many
from legato.graph.graph import Graph
from legato.store import schema
from legato.store.engine import Store
from legato.store.latest_rows import latest_rows

# every status a key of asset_latest has: naming them lets an index range skip to the times
_STATUSES = ("materialized", "in_progress", "failed")


def count_stale(
    store: Store,
    graph: Graph,
    asset: str,
    *,
    now: datetime,
    dynamic: DynamicLookup | None = None,
) -> int:
    """How many materialized keys of ``asset`` are stale."""
    same, whole, other = _upstreams_by_rule(graph, asset)
    a = schema.asset_latest.c
    mine = (a.asset_key == asset, a.status == "materialized")
    with store.read() as conn:
        oldest = conn.execute(select(func.min(a.materialized_at)).where(*mine)).scalar()
        if oldest is None:
            return 0
        # every key older than an unpartitioned upstream's value; the others are counted above it
        floor = max((t for up in whole if (t := _newest(conn, up, "")) is not None), default=None)
        counted = 0
        if floor is not None:
            older = select(func.count()).where(*mine, a.materialized_at < floor)
            counted = int(conn.execute(older).scalar_one())
        found = _newer_same_key(conn, asset, same, max(oldest, floor or oldest), floor)
        latest = max((t for up in other if (t := _newest(conn, up)) is not None), default=None)
        if latest is not None and latest > oldest:
            rows = conn.execute(
                select(a.partition, a.materialized_at).where(
                    *mine,
                    a.materialized_at < latest,
                    *([] if floor is None else [a.materialized_at >= floor]),
                )
            )
            times = {str(k): float(t) for k, t in rows if k not in found}
            found |= _stale(conn, graph, asset, times, other, now, dynamic)
        return counted + len(found)


def stale_among(
    store: Store,
    graph: Graph,
    asset: str,
    keys: Sequence[str],
    *,
    now: datetime,
    dynamic: DynamicLookup | None = None,
) -> set[str]:
    """Which of ``keys`` (materialized keys of ``asset``) are stale."""
    ups = [up for rule in _upstreams_by_rule(graph, asset) for up in rule]
    with store.read() as conn:
        times = _times(conn, asset, keys)
        return _stale(conn, graph, asset, times, ups, now, dynamic)


def _upstreams_by_rule(graph: Graph, asset: str) -> tuple[list[str], list[str], list[str]]:
    """The upstream assets read by the key of the same name, read whole, and read otherwise."""
    node = graph[asset]
    same: list[str] = []
    whole: list[str] = []
    other: list[str] = []
    for up in node.upstream:
        if graph[up].step.kind != "asset":
            continue
        mapping = node.mappings.get(up)
        if mapping is None or graph[up].partitions is None:
            whole.append(up)
        elif isinstance(mapping, Identity):
            same.append(up)
        else:
            other.append(up)
    return same, whole, other


def _newest(conn: Connection, asset: str, partition: str | None = None) -> float | None:
    """When ``asset`` (its key ``partition``, if given) was last materialized: one index
    look-up per status (or the key's own row)."""
    a = schema.asset_latest.c
    if partition is not None:
        queries = [select(a.materialized_at).where(a.asset_key == asset, a.partition == partition)]
    else:
        queries = [
            select(func.max(a.materialized_at)).where(a.asset_key == asset, a.status == status)
            for status in _STATUSES
        ]
    found = [t for q in queries if (t := conn.execute(q).scalar()) is not None]
    return max(float(t) for t in found) if found else None


def _newer_same_key(
    conn: Connection, asset: str, same: list[str], after: float, floor: float | None
) -> set[str]:
    """Keys of ``asset`` (not older than ``floor``) whose key of the same name in one of the
    ``same`` upstream assets was materialized after them. Driven by the upstream keys
    materialized after ``after`` (an index range), then those keys of ``asset`` alone: two
    plain look-ups, so no query planner can choose to read every key of the asset instead."""
    if not same:
        return set()
    a = schema.asset_latest.c
    newer: dict[str, float] = {}
    rows = conn.execute(
        select(a.partition, a.materialized_at).where(
            a.asset_key.in_(same), a.status.in_(_STATUSES), a.materialized_at > after
        )
    )
    for key, at in rows:
        newer[str(key)] = max(float(at), newer.get(str(key), 0.0))
    mine = _times(conn, asset, newer, status="materialized")
    return {k for k, at in mine.items() if at < newer[k] and (floor is None or at >= floor)}


def _times(
    conn: Connection, asset: str, keys: Iterable[str], *, status: str | None = None
) -> dict[str, float]:
    """When each of ``keys`` of ``asset`` was last materialized (those that ever were; with
    ``status``, those whose latest attempt has it)."""
    rows = latest_rows(conn, asset, keys, ("materialized_at", "status"), materialized=True)
    # the status is filtered here, not in SQL: with it there, SQLite may scan the index by asset
    # and status instead of looking the keys up
    return {str(r.partition): float(r.materialized_at) for r in rows if status in (None, r.status)}


def _stale(
    conn: Connection,
    graph: Graph,
    asset: str,
    times: dict[str, float],
    ups: Sequence[str],
    now: datetime,
    dynamic: DynamicLookup | None,
) -> set[str]:
    """Which keys of ``times`` (key → when materialized) read a newer upstream value."""
    node = graph[asset]
    keys = list(times)
    stale: set[str] = set()
    for up in ups:
        mapping, up_space = node.mappings.get(up), graph[up].partitions
        if mapping is None or up_space is None:
            reads = [[""]] * len(keys)
        else:
            reads = upstream_of_many(
                mapping, keys, up_space, node.partitions, now=now, dynamic=dynamic
            )
        theirs = _times(conn, up, {k for read in reads for k in read})
        stale.update(
            key
            for key, read in zip(keys, reads, strict=True)
            if any(theirs.get(k, 0.0) > times[key] for k in read)
        )
    return stale
