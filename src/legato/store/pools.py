"""Pools: named slot counts (``warehouse: 4``) shared by every executor and engine process.

A holder (one step attempt, e.g. ``"<run_id>:<step_key>:<attempt>"``) takes a slot with
:func:`try_acquire` and gives it back with :func:`release`. Slots are leases: a holder that dies
without releasing loses its slot when the lease runs out, so the slot comes back; a live holder
keeps it with :func:`renew`. Counting and taking a slot happen in one transaction that first
locks the pool's row (PostgreSQL) or holds SQLite's single write lock, so racing processes never
take more slots than the pool has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import Connection, delete, func, select, tuple_, update

from legato.errors import ConfigError
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.schema_workers import pool_slots, pools
from legato.store.step_queue import db_now

DEFAULT_LEASE = 60.0
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]{0,63}$")
_s = pool_slots.c


def check_pool(name: object, limit: object) -> None:
    """Raise ConfigError unless ``name`` is a valid pool name and ``limit`` a slot count ≥ 0."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"pool name {name!r} is invalid",
            obj=repr(name),
            hint="use a letter or '_' then up to 63 letters, digits, '_' or '-' (e.g. 'warehouse')",
        )
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ConfigError(
            f"pool {name!r}: limit {limit!r} is not a whole number ≥ 0",
            obj=name,
            hint=f"configure it as {name} = 4 under [tool.legato.pools]",
        )


def try_acquire(
    store: Store, pool: str, limit: int, holder: str, *, lease: float = DEFAULT_LEASE
) -> bool:
    """Take a slot of ``pool`` for ``holder`` if fewer than ``limit`` are held; True if taken.

    Taking a slot the holder already has renews it. ``limit`` is the pool's size as this caller
    knows it; the last value given is recorded with the pool.
    """
    check_pool(pool, limit)
    with store.transaction() as conn:
        _lock_pool(conn, pool, limit)
        now = conn.execute(select(db_now(conn.dialect.name))).scalar_one()
        conn.execute(delete(pool_slots).where(_s.pool == pool, _s.lease_until < now))
        mine = conn.execute(
            update(pool_slots)
            .where(_s.pool == pool, _s.holder == holder)
            .values(lease_until=now + lease)
        )
        if mine.rowcount == 1:
            return True
        held = conn.execute(
            select(func.count()).select_from(pool_slots).where(_s.pool == pool)
        ).scalar_one()
        if held >= limit:
            return False
        conn.execute(
            pool_slots.insert().values(
                pool=pool, holder=holder, acquired_at=now, lease_until=now + lease
            )
        )
        return True


def release(store: Store, pool: str, holder: str) -> None:
    """Give ``holder``'s slot of ``pool`` back (nothing happens if it holds none)."""
    with store.transaction() as conn:
        conn.execute(delete(pool_slots).where(_s.pool == pool, _s.holder == holder))


def renew(
    store: Store, held: Iterable[tuple[str, str]], *, lease: float = DEFAULT_LEASE
) -> set[tuple[str, str]]:
    """Extend the leases of ``(pool, holder)`` slots; return those that were lost meanwhile."""
    wanted = set(held)
    if not wanted:
        return set()
    with store.transaction() as conn:
        now = conn.execute(select(db_now(conn.dialect.name))).scalar_one()
        rows = conn.execute(
            update(pool_slots)
            .where(tuple_(_s.pool, _s.holder).in_(sorted(wanted)), _s.lease_until >= now)
            .values(lease_until=now + lease)
            .returning(_s.pool, _s.holder)
        ).all()
    return wanted - {(r.pool, r.holder) for r in rows}


def holders(store: Store, pool: str) -> list[str]:
    """Holders of ``pool`` whose lease has not run out, oldest first."""
    with store.read() as conn:
        now = db_now(conn.dialect.name)
        rows = conn.execute(
            select(_s.holder)
            .where(_s.pool == pool, _s.lease_until >= now)
            .order_by(_s.acquired_at, _s.holder)
        ).all()
    return [r.holder for r in rows]


def _lock_pool(conn: Connection, pool: str, limit: int) -> None:
    # The upsert creates the pool's row or updates it, and either way leaves it locked by this
    # transaction until commit (PostgreSQL), so acquirers of one pool queue here one at a time.
    stmt = upsert(conn.dialect.name, pools).values(name=pool, slots=limit)
    conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_={"slots": limit}))
