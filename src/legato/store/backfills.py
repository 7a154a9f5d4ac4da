"""Backfill records: the request, its planned run groups, its status and its driver's lease."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import insert, or_, select, update

from legato.errors import LegatoError, NotFoundError
from legato.events.status import RunStatus
from legato.store._json import json_type
from legato.store.engine import Store
from legato.store.runs import RunRecord, run_from_row
from legato.store.schema import runs as runs_table
from legato.store.schema_partitions import backfills

# requested → running ⇄ paused → completed | failed | cancelled (resuming a failed one: running)
STATUSES = ("requested", "running", "paused", "completed", "failed", "cancelled")


class PlanRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What to plan, for a backfill created where user code is not loaded (the REST API): the
    keys from ``range``'s first to its last key in its selection's space, or (None) its ``keys``.
    The daemon plans it with the project's code before driving it."""

    range: tuple[str, str] | None = None


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
    config: Mapping[str, Any] = field(default_factory=dict)  # the run config of each of its runs
    driver: str | None = None
    lease_until: float | None = None
    error: str | None = None
    # what to plan, while the backfill has no run groups yet: a PlanRequest as recorded (read it
    # with ``plan_request``)
    request: Mapping[str, Any] | None = None
    # in a listing (``backfill_listing``): the counts and ends of ``keys`` and ``groups``, which
    # are then left out (empty)
    listed: Listed | None = None

    @property
    def planned(self) -> bool:
        return self.request is None

    def plan_request(self) -> PlanRequest | None:
        """What is left to plan (None: planned); a LegatoError naming the backfill and the field
        if it was recorded in a form this version cannot read."""
        if self.request is None:
            return None
        try:
            return msgspec.convert(self.request, PlanRequest)
        except msgspec.ValidationError as exc:
            raise LegatoError(
                f"backfill {self.backfill_id} has a malformed request to plan "
                f"{dict(self.request)!r}: {exc}",
                obj=self.backfill_id,
                hint="cancel it and create it again",
            ) from None

    @property
    def key_count(self) -> int:
        return self.listed.keys if self.listed is not None else len(self.keys)

    @property
    def group_count(self) -> int:
        return self.listed.groups if self.listed is not None else len(self.groups)

    @property
    def first_key(self) -> str | None:
        if self.listed is not None:
            return self.listed.first_key
        return self.keys[0] if self.keys else None

    @property
    def last_key(self) -> str | None:
        if self.listed is not None:
            return self.listed.last_key
        return self.keys[-1] if self.keys else None


@dataclass(frozen=True)
class Listed:
    """What a listing shows of a backfill's keys and run groups, without reading them."""

    keys: int
    groups: int
    first_key: str | None
    last_key: str | None


def create_backfill(
    store: Store,
    backfill_id: str,
    selection: str,
    keys: Sequence[str],
    groups: Sequence[dict[str, Any]] | None,
    *,
    max_concurrent: int,
    missing_only: bool,
    executor: str,
    tags: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    driver: str | None = None,
    lease_seconds: float = 30.0,
    request: PlanRequest | None = None,
) -> BackfillRecord:
    """Record a requested backfill. With ``driver`` it is recorded already driven by that process
    (for ``lease_seconds``), so that no daemon starts driving it before its creator does. Without
    ``groups`` it is recorded unplanned, with the ``request`` to plan (see ``record_plan``)."""
    if (groups is None) == (request is None):
        raise ValueError("a backfill is created with its run groups or with a request to plan")
    now = time.time()
    with store.transaction() as conn:
        conn.execute(
            insert(backfills).values(
                backfill_id=backfill_id,
                selection=selection,
                keys=list(keys),
                status="requested",
                created_at=now,
                updated_at=now,
                max_concurrent=max_concurrent,
                missing_only=bool(missing_only),
                plan=list(groups) if groups is not None else msgspec.to_builtins(request),
                executor=executor,
                tags=dict(tags or {}),
                config=dict(config) if config else None,
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


def record_plan(
    store: Store, backfill_id: str, keys: Sequence[str], groups: Sequence[dict[str, Any]]
) -> bool:
    """Store the keys and run groups of a backfill created unplanned; False if it was planned
    already (by another daemon) or has ended meanwhile."""
    b = backfills.c
    with store.transaction() as conn:
        result = conn.execute(
            update(backfills)
            .where(
                b.backfill_id == backfill_id,
                json_type(conn, b.plan) == "object",  # a request, not yet a plan
                b.status.in_(["requested", "running", "paused"]),
            )
            .values(keys=list(keys), plan=list(groups), updated_at=time.time())
        )
    return bool(result.rowcount)


def backfill_status(store: Store, backfill_id: str) -> str:
    """The backfill's status alone (a driver reads it at every step; the record holds the plan)."""
    b = backfills.c
    with store.read() as conn:
        found = conn.execute(select(b.status).where(b.backfill_id == backfill_id)).scalar()
    if found is None:
        raise NotFoundError(f"no backfill {backfill_id!r}", obj=backfill_id)
    return str(found)


@dataclass(frozen=True)
class DriverLease:
    backfill_id: str
    status: str
    driver: str | None
    lease_until: float | None


def unfinished_backfills(store: Store, limit: int = 100) -> list[DriverLease]:
    """Backfills requested or running, oldest first, with who drives them (without their plans,
    which a daemon looking every half second must not read)."""
    b = backfills.c
    query = (
        select(b.backfill_id, b.status, b.driver, b.lease_until)
        .where(b.status.in_(["requested", "running"]))
        .order_by(b.created_at)
        .limit(limit)
    )
    with store.read() as conn:
        return [DriverLease(*row) for row in conn.execute(query)]


def finished_runs(store: Store, run_ids: Sequence[str]) -> dict[str, RunStatus]:
    """The final status of those of ``run_ids`` that have finished (one query)."""
    r = runs_table.c
    done = [s.value for s in RunStatus if s.finished]
    query = select(r.run_id, r.status).where(r.run_id.in_(list(run_ids)), r.status.in_(done))
    with store.read() as conn:
        return {str(run_id): RunStatus(status) for run_id, status in conn.execute(query)}


def list_backfills(store: Store, limit: int = 50) -> list[BackfillRecord]:
    """The newest backfills, listed: their keys and run groups counted, not read."""
    from legato.store.backfill_listing import listed_records, listing

    b = backfills.c
    with store.read() as conn:
        rows = conn.execute(listing(store).order_by(b.created_at.desc()).limit(limit)).all()
    return listed_records(rows)


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
    plan = row.plan
    request = plan if isinstance(plan, dict) else None
    return BackfillRecord(
        backfill_id=row.backfill_id,
        selection=row.selection,
        keys=tuple(row.keys or ()),
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        max_concurrent=row.max_concurrent,
        missing_only=bool(row.missing_only),
        groups=() if request is not None else tuple(plan or ()),
        request=request,
        executor=row.executor,
        tags=row.tags or {},
        config=row.config or {},
        driver=row.driver,
        lease_until=row.lease_until,
        error=row.error,
    )
