"""Partition facts in the store: the keys of dynamic partition sets, and status per asset key."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, select

from legato.definitions.partitions import DynamicPartitions
from legato.store import schema
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.schema_partitions import dynamic_partitions


def add_dynamic_keys(
    store: Store, set_name: str, keys: Iterable[str], *, added_by: str = "api"
) -> list[str]:
    """Add keys to a dynamic partition set (validated); returns the keys that were new."""
    with store.transaction() as conn:
        return insert_dynamic_keys(conn, set_name, keys, added_by=added_by)


def insert_dynamic_keys(
    conn: Connection, set_name: str, keys: Iterable[str], *, added_by: str = "api"
) -> list[str]:
    """``add_dynamic_keys`` inside the caller's transaction (with the runs that need them)."""
    space = DynamicPartitions(set_name)
    wanted = list(dict.fromkeys(space.check_new_key(k) for k in keys))
    if not wanted:
        return []
    table = dynamic_partitions
    now = time.time()
    rows = [{"set_name": set_name, "key": k, "added_at": now, "added_by": added_by} for k in wanted]
    existing = set(
        conn.execute(
            select(table.c.key).where(table.c.set_name == set_name, table.c.key.in_(wanted))
        ).scalars()
    )
    stmt = upsert(conn.dialect.name, table).on_conflict_do_nothing(
        index_elements=["set_name", "key"]
    )
    conn.execute(stmt, rows)
    return [k for k in wanted if k not in existing]


def remove_dynamic_keys(store: Store, set_name: str, keys: Iterable[str]) -> int:
    table = dynamic_partitions
    wanted = list(keys)
    with store.transaction() as tx:
        result = tx.execute(
            delete(table).where(table.c.set_name == set_name, table.c.key.in_(wanted))
        )
    return int(result.rowcount or 0)


def dynamic_keys(store: Store, set_name: str) -> list[str]:
    """The keys of a dynamic set, oldest first."""
    table = dynamic_partitions
    with store.read() as conn:
        return list(
            conn.execute(
                select(table.c.key)
                .where(table.c.set_name == set_name)
                .order_by(table.c.added_at, table.c.key)
            ).scalars()
        )


def dynamic_sets(store: Store) -> dict[str, int]:
    """Every dynamic set with its number of keys."""
    table = dynamic_partitions
    with store.read() as conn:
        rows = conn.execute(select(table.c.set_name, func.count()).group_by(table.c.set_name))
        return {str(name): int(n) for name, n in rows}


def dynamic_lookup(store: Store) -> Callable[[str], Sequence[str]]:
    """A lookup ``name -> keys`` for partition spaces, reading each set once."""
    cache: dict[str, list[str]] = {}

    def lookup(name: str) -> Sequence[str]:
        if name not in cache:
            cache[name] = dynamic_keys(store, name)
        return cache[name]

    return lookup


@dataclass(frozen=True)
class KeyStatus:
    status: str  # materialized | in_progress | failed
    materialized_at: float | None
    run_id: str


def partition_statuses(store: Store, asset_key: str) -> dict[str, KeyStatus]:
    """Every touched key of an asset with its status; keys absent here are missing."""
    a = schema.asset_latest.c
    with store.read() as conn:
        rows = conn.execute(
            select(a.partition, a.status, a.materialized_at, a.run_id).where(
                a.asset_key == asset_key
            )
        )
        return {r.partition: KeyStatus(r.status, r.materialized_at, r.run_id) for r in rows}


def status_counts(store: Store, asset_key: str) -> Counter[str]:
    """How many keys of an asset are materialized, in progress or failed (one indexed query)."""
    a = schema.asset_latest.c
    with store.read() as conn:
        rows = conn.execute(
            select(a.status, func.count()).where(a.asset_key == asset_key).group_by(a.status)
        )
        return Counter({str(s): int(n) for s, n in rows})


def materialized_times(store: Store, asset_key: str) -> dict[str, float]:
    """When each key of an asset was last materialized."""
    a = schema.asset_latest.c
    with store.read() as conn:
        rows = conn.execute(
            select(a.partition, a.materialized_at).where(
                a.asset_key == asset_key, a.materialized_at.is_not(None)
            )
        )
        return {r.partition: float(r.materialized_at) for r in rows}
