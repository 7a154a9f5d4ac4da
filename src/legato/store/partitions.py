"""Partition facts in the store: the keys of dynamic partition sets, and status per asset key."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, func, select

from legato.definitions.partitions import DynamicPartitions
from legato.store import latest_counts, schema
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.latest_rows import latest_rows
from legato.store.schema_partitions import dynamic_partitions


def add_dynamic_keys(
    store: Store,
    set_name: str,
    keys: Iterable[str],
    *,
    added_by: str = "api",
    at: float | None = None,
) -> list[str]:
    """Add keys to a dynamic partition set (validated); returns the keys that were new.

    ``at`` (epoch seconds, default now) is when they count as added: a roll-up over the set reads,
    for each time window, the keys added by the window's end. A key onboarded with its history
    is added with ``at`` at the start of that history."""
    with store.transaction() as conn:
        return insert_dynamic_keys(conn, set_name, keys, added_by=added_by, at=at)


def insert_dynamic_keys(
    conn: Connection,
    set_name: str,
    keys: Iterable[str],
    *,
    added_by: str = "api",
    at: float | None = None,
) -> list[str]:
    """``add_dynamic_keys`` inside the caller's transaction (with the runs that need them)."""
    space = DynamicPartitions(set_name)
    wanted = list(dict.fromkeys(space.check_new_key(k) for k in keys))
    if not wanted:
        return []
    table = dynamic_partitions
    now = time.time() if at is None else at
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


def dynamic_lookup(store: Store) -> StoredDynamic:
    """A lookup ``name -> keys`` for partition spaces, reading each set once; it also answers
    which keys existed at a time (``as_of``), for roll-ups over a dynamic dimension."""
    return StoredDynamic(store)


class StoredDynamic:
    """The store's dynamic sets, each read once, with when each key was added."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sets: dict[str, list[tuple[str, float]]] = {}
        self._keys: dict[str, KeyList] = {}

    def _rows(self, name: str) -> list[tuple[str, float]]:
        if name not in self._sets:
            t = dynamic_partitions.c
            with self.store.read() as conn:
                rows = conn.execute(
                    select(t.key, t.added_at).where(t.set_name == name).order_by(t.added_at, t.key)
                ).all()
            self._sets[name] = [(str(key), float(added)) for key, added in rows]
        return self._sets[name]

    def __call__(self, name: str) -> Sequence[str]:
        found = self._keys.get(name)
        if found is None:
            found = self._keys[name] = KeyList(key for key, _ in self._rows(name))
        return found

    def as_of(self, name: str, when: datetime) -> Sequence[str]:
        """The keys added at or before ``when``."""
        cutoff = when.timestamp()
        rows = self._rows(name)
        if rows and rows[-1][1] <= cutoff:  # every key was there already: the one list
            return self(name)
        return KeyList(key for key, added in rows if added <= cutoff)


class KeyList(tuple[str, ...]):
    """Keys in order whose ``in`` is a set lookup: partition spaces ask it for every key."""

    def __contains__(self, key: object) -> bool:
        members = self.__dict__.get("_set")
        if members is None:
            members = self.__dict__["_set"] = frozenset(self)
        return key in members


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
    """How many keys of an asset are materialized, in progress or failed (counts kept as
    ``asset_latest`` is written: ``latest_counts``)."""
    with store.read() as conn:
        return latest_counts.status_counts(conn, asset_key)


def materialized_among(store: Store, asset_key: str, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` of an asset are materialized: indexed look-ups of those keys alone, so
    the cost follows the keys asked about, not how many the asset has."""
    with store.read() as conn:
        rows = latest_rows(conn, asset_key, keys, (), materialized=True)
        return {str(r.partition) for r in rows}
