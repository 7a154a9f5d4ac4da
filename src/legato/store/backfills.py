"""Backfill records: the request, its planned run groups, its status and its driver's lease."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, or_, select, update

from legato.errors import LegatoError, NotFoundError
from legato.store._json import dumps, loads
from legato.store.engine import Store
from legato.store.runs import RunRecord, run_from_row
from legato.store.schema import runs as runs_table
from legato.store.schema_partitions import backfills

# requested → running ⇄ paused → completed | failed | cancelled (resuming a failed one: running)
STATUSES = ("requested", "running", "paused", "completed", "failed", "cancelled")


@dataclass(frozen=True)
class BackfillRecord:
    backfill_id: str
    selection: str
    keys: tuple[str, ...]
    status: str
    created_at: float
    updated_at: float
    max_concurrent: int
    missing_only: bool
    groups: tuple[dict[str, Any], ...]
    executor: str = "process"
    tags: Mapping[str, str] = field(default_factory=dict)
    driver: str | None = None
    lease_until: float | None = None
    error: str | None = None


def create_backfill(
    store: Store,
    backfill_id: str,
    selection: str,
    keys: Sequence[str],
    groups: Sequence[dict[str, Any]],
    *,
    max_concurrent: int,
    missing_only: bool,
    executor: str,
    tags: Mapping[str, str] | None = None,
    driver: str | None = None,
    lease_seconds: float = 30.0,
) -> BackfillRecord:
    """Record a requested backfill. With ``driver`` it is recorded already driven by that process
    (for ``lease_seconds``), so that no daemon starts driving it before its creator does."""
    now = time.time()
    with store.transaction() as conn:
        conn.execute(
            insert(backfills).values(
                backfill_id=backfill_id,
                selection=selection,
                keys=dumps(list(keys)),
                status="requested",
                created_at=now,
                updated_at=now,
                max_concurrent=max_concurrent,
                missing_only=int(missing_only),
                plan=dumps(list(groups)),
                executor=executor,
                tags=dumps(dict(tags or {})),
                driver=driver,
                lease_until=now + lease_seconds if driver else None,
            )
        )
    return get_backfill(store, backfill_id)


def get_backfill(store: Store, backfill_id: str) -> BackfillRecord:
    b = backfills.c
    with store.read() as conn:
        row = conn.execute(select(backfills).where(b.backfill_id == backfill_id)).first()
        if row is None and len(backfill_id) >= 6:
            found = conn.execute(
                select(backfills)
                .where(b.backfill_id.startswith(backfill_id, autoescape=True))
                .limit(2)
            ).all()
            row = found[0] if len(found) == 1 else None
    if row is None:
        raise NotFoundError(
            f"no backfill {backfill_id!r}",
            obj=backfill_id,
            hint="run 'legato backfills' to list them",
        )
    return backfill_from_row(row)


def list_backfills(store: Store, limit: int = 50) -> list[BackfillRecord]:
    b = backfills.c
    with store.read() as conn:
        rows = conn.execute(select(backfills).order_by(b.created_at.desc()).limit(limit)).all()
    return [backfill_from_row(r) for r in rows]


def set_status(
    store: Store,
    backfill_id: str,
    status: str,
    *,
    allowed_from: Sequence[str],
    error: str | None = None,
) -> BackfillRecord:
    """Move a backfill to ``status`` if it is in one of ``allowed_from``; else say why not."""
    if status not in STATUSES:
        raise LegatoError(f"unknown backfill status {status!r}", hint=f"use one of {STATUSES}")
    record = get_backfill(store, backfill_id)
    b = backfills.c
    with store.transaction() as conn:
        result = conn.execute(
            update(backfills)
            .where(b.backfill_id == record.backfill_id, b.status.in_(list(allowed_from)))
            .values(status=status, updated_at=time.time(), error=error)
        )
    if not result.rowcount:
        current = get_backfill(store, record.backfill_id).status
        raise LegatoError(
            f"backfill {record.backfill_id} is {current}; it cannot become {status}",
            obj=record.backfill_id,
            hint=f"only a backfill that is {' or '.join(allowed_from)} can",
        )
    return get_backfill(store, record.backfill_id)


def claim_driver(
    store: Store,
    backfill_id: str,
    driver: str,
    lease_seconds: float,
    *,
    steal_from: str | None = None,
) -> bool:
    """Become (or stay) the process driving a backfill: if nobody drives it, or its driver's
    lease expired, or its driver is still ``steal_from`` (one known dead). Compare-and-set: of
    two processes racing for it, one wins."""
    b = backfills.c
    now = time.time()
    free = or_(b.driver.is_(None), b.driver == driver, b.lease_until < now)
    if steal_from is not None:
        free = or_(free, b.driver == steal_from)
    with store.transaction() as conn:
        result = conn.execute(
            update(backfills)
            .where(b.backfill_id == backfill_id, free)
            .values(driver=driver, lease_until=now + lease_seconds)
        )
    return bool(result.rowcount)


def release_driver(store: Store, backfill_id: str, driver: str) -> None:
    b = backfills.c
    with store.transaction() as conn:
        conn.execute(
            update(backfills)
            .where(b.backfill_id == backfill_id, b.driver == driver)
            .values(driver=None, lease_until=None)
        )


def backfill_runs(store: Store, backfill_id: str) -> list[RunRecord]:
    """Every run a backfill created, oldest first."""
    r = runs_table.c
    with store.read() as conn:
        rows = conn.execute(
            select(runs_table).where(r.backfill_id == backfill_id).order_by(r.created_at, r.run_id)
        ).all()
    return [run_from_row(row) for row in rows]


def backfill_run(store: Store, key: str) -> RunRecord | None:
    """The run created under idempotency key ``key`` (``backfill:<id>:<group>:<attempt>``)."""
    r = runs_table.c
    with store.read() as conn:
        row = conn.execute(select(runs_table).where(r.idempotency_key == key)).first()
    return None if row is None else run_from_row(row)


def backfill_from_row(row: Any) -> BackfillRecord:
    return BackfillRecord(
        backfill_id=row.backfill_id,
        selection=row.selection,
        keys=tuple(loads(row.keys) or ()),
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        max_concurrent=row.max_concurrent,
        missing_only=bool(row.missing_only),
        groups=tuple(loads(row.plan) or ()),
        executor=row.executor,
        tags=loads(row.tags) or {},
        driver=row.driver,
        lease_until=row.lease_until,
        error=row.error,
    )
