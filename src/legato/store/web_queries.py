"""Read queries behind the REST API: log search, asset history pages, the latest snapshot's
header, the latest status of every node, and pages of dynamic partition keys, partition statuses,
backfills (with progress) and trigger ticks (lists of runs: ``legato.store.run_search``).

Every list is ordered by an indexed key and continued with a cursor (never OFFSET), so a page costs
the same at run 10 and at run 100,000.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select

from legato.graph.snapshot import DefinitionsSnapshot
from legato.store import schema
from legato.store.automation import TickRow
from legato.store.backfill_listing import listed_records, listing
from legato.store.backfills import BackfillRecord
from legato.store.engine import Store
from legato.store.latest_rows import latest_rows
from legato.store.logs import LogLine
from legato.store.partitions import KeyStatus
from legato.store.schema_automation import ticks
from legato.store.schema_partitions import backfills, dynamic_partitions
from legato.store.snapshots import parse_snapshot


def search_logs(
    store: Store,
    run_id: str,
    *,
    step_key: str | None = None,
    after_id: int = 0,
    limit: int = 1000,
    contains: str | None = None,
) -> list[LogLine]:
    """Log lines of a run (or one step), oldest first; ``contains`` is a literal substring
    (case-insensitive; LIKE wildcards in it are escaped, so ``%`` matches a percent sign)."""
    c = schema.logs.c
    query = (
        select(schema.logs).where(c.run_id == run_id, c.id > after_id).order_by(c.id).limit(limit)
    )
    if step_key is not None:
        query = query.where(c.step_key == step_key)
    if contains:
        escaped = contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(c.message.ilike(f"%{escaped}%", escape="\\"))
    with store.read() as conn:
        return [
            LogLine(r.id, r.run_id, r.step_key, r.ts, r.level, r.stream, r.message)
            for r in conn.execute(query)
        ]


@dataclass(frozen=True)
class HistoryRow:
    id: int
    asset_key: str
    partition: str
    run_id: str
    step_key: str
    ts: float
    metadata: dict[str, Any]


def asset_history_page(
    store: Store,
    asset_key: str,
    *,
    partition: str | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> list[HistoryRow]:
    """Materializations of one asset, newest first, with ids below ``before_id``."""
    m = schema.materializations.c
    query = select(schema.materializations).where(m.asset_key == asset_key)
    if partition is not None:
        query = query.where(m.partition == partition)
    if before_id is not None:
        query = query.where(m.id < before_id)
    query = query.order_by(m.id.desc()).limit(limit)
    with store.read() as conn:
        return [
            HistoryRow(r.id, r.asset_key, r.partition, r.run_id, r.step_key, r.ts, r.metadata or {})
            for r in conn.execute(query)
        ]


@dataclass(frozen=True)
class SnapshotHeader:
    id: int
    fingerprint: str
    created_at: float


def latest_snapshot_header(store: Store, location: str = "default") -> SnapshotHeader | None:
    """Id and fingerprint of the newest snapshot, so callers re-parse only when it changed."""
    s = schema.snapshots.c
    with store.read() as conn:
        row = conn.execute(
            select(s.id, s.fingerprint, s.created_at)
            .where(s.location == location)
            .order_by(s.id.desc())
            .limit(1)
        ).first()
    return None if row is None else SnapshotHeader(int(row[0]), str(row[1]), float(row[2]))


def snapshot_data(store: Store, snapshot_id: int) -> DefinitionsSnapshot:
    """The snapshot ``snapshot_id`` (SnapshotError naming it and the field if it does not fit)."""
    s = schema.snapshots.c
    with store.read() as conn:
        row = conn.execute(select(s.location, s.data).where(s.id == snapshot_id)).one()
    return parse_snapshot(row.data, snapshot_id, row.location)


def node_statuses(store: Store, recent_runs: int = 200) -> dict[str, tuple[str, float]]:
    """The status of each node's step in the newest of the last ``recent_runs`` runs that ran
    it, with that run's creation time (bounded work, whatever the size of the history)."""
    r, s = schema.runs.c, schema.steps.c
    recent = (
        select(r.run_id, r.created_at).order_by(r.created_at.desc()).limit(recent_runs).subquery()
    )
    query = (
        select(s.node, s.status, s.map_index, recent.c.created_at)
        .join(recent, recent.c.run_id == s.run_id)
        .order_by(recent.c.created_at)
    )
    out: dict[str, tuple[str, float]] = {}
    with store.read() as conn:
        for node, status, map_index, created in conn.execute(query):
            if map_index < 0:  # a fan-out's items share their template's status
                out[str(node)] = (str(status), float(created))
    return out


def last_materialized(store: Store) -> dict[str, float]:
    """When each asset was last materialized."""
    m = schema.materializations.c
    with store.read() as conn:
        rows = conn.execute(select(m.asset_key, func.max(m.ts)).group_by(m.asset_key)).all()
    return {str(k): float(ts) for k, ts in rows}


def ping(store: Store) -> None:
    """A trivial read: raises StoreError if the store cannot be reached."""
    with store.read() as conn:
        conn.execute(select(1)).scalar()


# -- partitions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DynamicKeyRow:
    key: str
    added_at: float
    added_by: str


def dynamic_keys_page(
    store: Store, set_name: str, *, after: str | None = None, prefix: str = "", limit: int = 100
) -> list[DynamicKeyRow]:
    """Keys of a dynamic set in key order (its primary key), after ``after``, optionally only
    those starting with ``prefix`` (a literal: LIKE wildcards in it are escaped)."""
    d = dynamic_partitions.c
    query = (
        select(d.key, d.added_at, d.added_by)
        .where(d.set_name == set_name)
        .order_by(d.key)
        .limit(limit)
    )
    if after is not None:
        query = query.where(d.key > after)
    if prefix:
        query = query.where(d.key.startswith(prefix, autoescape=True))
    with store.read() as conn:
        return [DynamicKeyRow(str(k), float(t), str(b)) for k, t, b in conn.execute(query)]


def dynamic_set_size(store: Store, set_name: str) -> int:
    d = dynamic_partitions.c
    with store.read() as conn:
        count = conn.execute(select(func.count()).where(d.set_name == set_name)).scalar()
    return int(count or 0)


def key_statuses(store: Store, asset_key: str, keys: Sequence[str]) -> dict[str, KeyStatus]:
    """The status of each of ``keys`` of an asset that the store has seen (absent: missing),
    each key looked up by itself (``latest_rows``)."""
    with store.read() as conn:
        rows = latest_rows(conn, asset_key, keys, ("status", "materialized_at", "run_id"))
        return {
            str(r.partition): KeyStatus(str(r.status), r.materialized_at, str(r.run_id))
            for r in rows
        }


# -- backfills ----------------------------------------------------------------------------------


def backfills_page(
    store: Store,
    *,
    statuses: Sequence[str] = (),
    before: tuple[float, str] | None = None,
    limit: int = 50,
) -> list[BackfillRecord]:
    """Backfills newest first, after the ``(created_at, backfill_id)`` cursor; listed: their keys
    and run groups counted, not read (``backfill_listing``)."""
    b = backfills.c
    query = listing(store).order_by(b.created_at.desc(), b.backfill_id.desc()).limit(limit)
    if statuses:
        query = query.where(b.status.in_(list(statuses)))
    if before is not None:
        query = query.where(
            or_(
                b.created_at < before[0],
                and_(b.created_at == before[0], b.backfill_id < before[1]),
            )
        )
    with store.read() as conn:
        return listed_records(conn.execute(query).all())


@dataclass(frozen=True)
class GroupCounts:
    """What the runs of one backfill say about its run groups."""

    succeeded: int = 0  # groups whose run succeeded (a group succeeds once, then stops)
    running: int = 0  # groups with a run not finished yet (at most one per group)
    started: int = 0  # groups with at least one run (each group's first run has attempt 1)


_UNFINISHED = ("queued", "running", "canceling")


def backfill_group_counts(store: Store, backfill_ids: Sequence[str]) -> dict[str, GroupCounts]:
    """Per backfill, from one grouped query over its runs (keyed ``backfill:<id>:<group>:<n>``):
    groups succeeded, running and started. A group whose latest run finished without success
    is started - succeeded - running, one that never ran is total - started."""
    r = schema.runs.c
    first = func.sum(case((r.idempotency_key.like("backfill:%:1"), 1), else_=0))
    query = (
        select(r.backfill_id, r.status, func.count(), first)
        .where(r.backfill_id.in_(list(backfill_ids)))
        .group_by(r.backfill_id, r.status)
    )
    totals: dict[str, list[int]] = {}
    with store.read() as conn:
        for backfill_id, status, count, firsts in conn.execute(query):
            entry = totals.setdefault(str(backfill_id), [0, 0, 0])
            entry[0] += int(count) if status == "succeeded" else 0
            entry[1] += int(count) if status in _UNFINISHED else 0
            entry[2] += int(firsts or 0)
    return {k: GroupCounts(*v) for k, v in totals.items()}


# -- triggers -----------------------------------------------------------------------------------


def _tick(row: Any) -> TickRow:
    return TickRow(row.id, row.trigger_id, row.tick_key, row.ts, row.status, row.run_id, row.reason)


def ticks_page(
    store: Store,
    trigger_id: str,
    *,
    statuses: Sequence[str] = (),
    before_id: int | None = None,
    limit: int = 50,
) -> list[TickRow]:
    """Ticks of one trigger, newest first, with ids below ``before_id``."""
    t = ticks.c
    query = select(ticks).where(t.trigger_id == trigger_id).order_by(t.id.desc()).limit(limit)
    if statuses:
        query = query.where(t.status.in_(list(statuses)))
    if before_id is not None:
        query = query.where(t.id < before_id)
    with store.read() as conn:
        return [_tick(row) for row in conn.execute(query)]


def latest_ticks(store: Store, trigger_ids: Sequence[str]) -> dict[str, TickRow]:
    """The newest tick of each trigger that has one: one index seek per trigger (a grouped
    query would read the whole tick history)."""
    t = ticks.c
    out: dict[str, TickRow] = {}
    with store.read() as conn:
        for trigger_id in trigger_ids:
            row = conn.execute(
                select(ticks).where(t.trigger_id == trigger_id).order_by(t.id.desc()).limit(1)
            ).first()
            if row is not None:
                out[trigger_id] = _tick(row)
    return out
