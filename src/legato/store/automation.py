"""The daemon's records: triggers (claimed under leases), ticks with their runs, daemon heartbeats.

A tick, the runs it requests and the trigger's new cursor commit in ONE transaction; each run
carries an idempotency key, so two daemons racing on one tick create one run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, null, or_, select, true, update

from legato._internal.ids import bounded_key
from legato.definitions.trigger_specs import TriggerSpec, kind_of, parse_trigger_spec
from legato.graph.snapshot import DefinitionsSnapshot
from legato.store._json import as_stored
from legato.store.alert_outbox import add_facts
from legato.store.engine import Store
from legato.store.presence import gone_owner
from legato.store.runs import RunRecord
from legato.store.schema_automation import (
    TICK_KEY_LENGTH,
    daemons,
    dead_letters,
    ticks,
    triggers,
)
from legato.store.tick_writes import TickWrite, write_ticks


@dataclass(frozen=True)
class TriggerRow:
    trigger_id: str
    pipeline: str
    kind: str
    spec: TriggerSpec
    enabled: bool
    cursor: str | None
    last_tick: float | None
    next_due: float


@dataclass(frozen=True)
class DaemonRow:
    """A daemon as it records itself: where it runs, since when, its latest heartbeat, and
    whether it is running, stopped (cleanly) or dead (killed, or silent past its lease)."""

    daemon_id: str
    host: str
    pid: int
    started_at: float
    heartbeat_at: float
    status: str


@dataclass(frozen=True)
class TickRow:
    id: int
    trigger_id: str
    tick_key: str
    ts: float
    status: str
    run_id: str | None
    reason: str | None


def trigger_id(pipeline: str, index: int, kind: str) -> str:
    return f"{pipeline}#{index}:{kind}"


def sync_triggers(store: Store, snapshot: DefinitionsSnapshot) -> list[str]:
    """Make the trigger table match the snapshot's pipelines; keeps cursors of unchanged ones.

    A trigger whose spec changed keeps its cursor (a schedule does not replay its past); one
    that disappeared is deleted. Returns the ids now defined.
    """
    wanted: dict[str, tuple[str, str, Any]] = {}
    for pipe in snapshot.pipelines:
        for index, spec in enumerate(pipe.triggers):
            kind = kind_of(spec)
            wanted[trigger_id(pipe.name, index, kind)] = (pipe.name, kind, as_stored(spec))
    now = time.time()
    with store.transaction() as conn:
        existing = {
            r.trigger_id: r.spec
            for r in conn.execute(select(triggers.c.trigger_id, triggers.c.spec))
        }
        for key, (pipeline, kind, spec) in wanted.items():
            if key not in existing:
                conn.execute(
                    insert(triggers).values(
                        trigger_id=key,
                        pipeline=pipeline,
                        kind=kind,
                        spec=spec,
                        enabled=True,
                        next_due=0.0,
                        updated_at=now,
                    )
                )
            elif existing[key] != spec:
                conn.execute(
                    update(triggers)
                    .where(triggers.c.trigger_id == key)
                    .values(spec=spec, updated_at=now, next_due=0.0)
                )
        gone = [k for k in existing if k not in wanted]
        if gone:
            conn.execute(delete(triggers).where(triggers.c.trigger_id.in_(gone)))
    return list(wanted)


def claim_triggers(
    store: Store,
    owner: str,
    *,
    now: float,
    lease: float,
    limit: int = 100,
    due_by: float | None = None,
    kinds: Sequence[str] = (),
) -> list[TriggerRow]:
    """Claim enabled triggers that are due and free (or already ours) for ``lease`` seconds.

    ``due_by``: claim those due by then (a moment ahead, to plan their ticks before they fall
    due) instead of by ``now``; ``kinds``: only triggers of these kinds.
    On PostgreSQL rows are locked with ``FOR UPDATE SKIP LOCKED``, so daemons never wait on each
    other and never evaluate the same trigger at once.
    """
    t = triggers.c
    free = [t.owner.is_(None), t.owner == owner, t.lease_until < now]
    if not store.is_sqlite:  # or held by a daemon that died (its presence lock is gone)
        free.append(gone_owner(t.owner))
    due = t.next_due <= (now if due_by is None else due_by)
    query = (
        select(triggers)
        .where(t.enabled == true(), due, or_(*free), *([t.kind.in_(kinds)] if kinds else []))
        .order_by(t.next_due)
        .limit(limit)
    )
    with store.transaction() as conn:
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(of=triggers, skip_locked=True)
        rows = conn.execute(query).all()
        if rows:
            conn.execute(
                update(triggers)
                .where(t.trigger_id.in_([r.trigger_id for r in rows]))
                .values(owner=owner, lease_until=now + lease)
            )
    return [_trigger(r) for r in rows]


def record_tick(
    store: Store,
    trigger: str,
    tick_key: str,
    *,
    status: str,
    runs: Sequence[RunRecord] = (),
    reason: str | None = None,
    cursor: str | None = None,
    last_tick: float | None = None,
    next_due: float | None = None,
    owner: str | None = None,
) -> list[str]:
    """Record one tick, its runs and the trigger's progress in one transaction.

    Returns the run ids (existing ones for requests already made). With ``owner``, the write
    only happens if this daemon still holds the trigger's lease (a stale daemon is fenced).
    """
    write = TickWrite(trigger, tick_key, status, runs, reason, cursor, last_tick, next_due)
    return write_ticks(store, [write], owner=owner).get(trigger, [])


def next_due_times(store: Store, kinds: Sequence[str] = ()) -> tuple[float | None, float | None]:
    """When the earliest enabled trigger is due, and the earliest of ``kinds`` (epoch seconds;
    None where there is none), in one query."""
    t = triggers.c
    of_kinds = func.min(case((t.kind.in_(kinds), t.next_due))) if kinds else null()
    with store.read() as conn:
        row = conn.execute(select(func.min(t.next_due), of_kinds).where(t.enabled == true())).one()
    first, first_of_kinds = (None if v is None else float(v) for v in row)
    return first, first_of_kinds


def advance_trigger(
    store: Store,
    trigger: str,
    *,
    next_due: float,
    cursor: str | None = None,
    last_tick: float | None = None,
    owner: str | None = None,
) -> None:
    """Move a trigger on without recording a tick (nothing was due). With ``owner``, only while
    that daemon still holds the trigger: a daemon that lost its lease while evaluating must not
    move ``last_tick`` past ticks it could not record (the new owner records them)."""
    write = TickWrite(trigger, cursor=cursor, last_tick=last_tick, next_due=next_due)
    write_ticks(store, [write], owner=owner)


def set_enabled(store: Store, trigger: str, enabled: bool) -> bool:
    """Switch a registered trigger on or off; False if no trigger has that id."""
    with store.transaction() as conn:
        found = conn.execute(
            update(triggers)
            .where(triggers.c.trigger_id == trigger)
            .values(enabled=bool(enabled), next_due=0.0, updated_at=time.time())
        ).rowcount
    return bool(found)


def trigger_enabled(conn: Connection, trigger: str) -> bool:
    """False only if ``trigger`` is registered and switched off (one the daemon has not
    registered yet is on, as registering it would make it)."""
    query = select(triggers.c.enabled).where(triggers.c.trigger_id == trigger)
    enabled = conn.execute(query).scalar()
    return enabled is None or bool(enabled)


def list_triggers(store: Store) -> list[TriggerRow]:
    with store.read() as conn:
        return [_trigger(r) for r in conn.execute(select(triggers).order_by(triggers.c.trigger_id))]


def list_ticks(store: Store, trigger: str | None = None, limit: int = 50) -> list[TickRow]:
    query = select(ticks).order_by(ticks.c.id.desc()).limit(limit)
    if trigger is not None:
        query = query.where(ticks.c.trigger_id == trigger)
    with store.read() as conn:
        return [
            TickRow(r.id, r.trigger_id, r.tick_key, r.ts, r.status, r.run_id, r.reason)
            for r in conn.execute(query)
        ]


def record_dead_letter(
    store: Store, trigger: str, message_id: str, reason: str, body: bytes
) -> None:
    with store.transaction() as conn:
        conn.execute(
            insert(dead_letters).values(
                trigger_id=trigger,
                message_id=bounded_key(message_id, TICK_KEY_LENGTH),
                reason=reason,
                body=body[:65536].decode("utf-8", "replace"),
                ts=time.time(),
            )
        )


def heartbeat(store: Store, daemon_id: str, host: str, pid: int) -> None:
    with store.transaction() as conn:
        _beat(conn, daemon_id, host, pid)


def register_alone(
    store: Store,
    daemon_id: str,
    host: str,
    pid: int,
    *,
    within: float,
    alive: Callable[[DaemonRow], bool],
) -> DaemonRow | None:
    """Record this daemon unless another live one is recorded (one write transaction, so two
    daemons starting together cannot both pass the check); return that other one, if any."""
    cutoff = time.time() - within
    with store.transaction() as conn:
        rows = conn.execute(
            select(daemons).where(
                daemons.c.heartbeat_at >= cutoff,
                daemons.c.status == "running",
                daemons.c.daemon_id != daemon_id,
            )
        )
        others = [d for d in (_daemon(r) for r in rows) if alive(d)]
        if others:
            return others[0]
        _beat(conn, daemon_id, host, pid)
    return None


def _beat(conn: Connection, daemon_id: str, host: str, pid: int) -> None:
    now = time.time()
    found = conn.execute(
        update(daemons)
        .where(daemons.c.daemon_id == daemon_id)
        .values(heartbeat_at=now, status="running")
    )
    if not found.rowcount:
        conn.execute(
            insert(daemons).values(
                daemon_id=daemon_id,
                host=host,
                pid=pid,
                started_at=now,
                heartbeat_at=now,
                status="running",
            )
        )


def live_daemons(store: Store, *, within: float) -> list[DaemonRow]:
    cutoff = time.time() - within
    with store.read() as conn:
        rows = conn.execute(
            select(daemons).where(daemons.c.heartbeat_at >= cutoff, daemons.c.status == "running")
        )
        return [_daemon(r) for r in rows]


def mark_dead(store: Store, *, within: float) -> int:
    """Record as dead the daemons recorded running that are not: silent for ``within`` s, or
    (PostgreSQL) whose presence lock is gone. Returns how many were marked."""
    d = daemons.c
    dead = d.heartbeat_at < time.time() - within
    if not store.is_sqlite:
        dead = or_(dead, gone_owner(d.daemon_id))
    with store.transaction() as conn:
        query = update(daemons).where(d.status == "running", dead).values(status="dead")
        found = conn.execute(query.returning(d.daemon_id, d.host, d.pid, d.heartbeat_at)).all()
        add_facts(  # for the alert loop, with the fact
            conn,
            [
                ("daemon_down", r.daemon_id, {"host": r.host, "pid": r.pid, "last": r.heartbeat_at})
                for r in found
            ],
        )
        return len(found)


def list_daemons(store: Store, limit: int | None = 50) -> list[DaemonRow]:
    """Recorded daemons, running ones first, then by latest heartbeat."""
    d = daemons.c
    query = select(daemons).order_by((d.status == "running").desc(), d.heartbeat_at.desc())
    with store.read() as conn:
        return [_daemon(r) for r in conn.execute(query.limit(limit))]


def stop_daemon(store: Store, daemon_id: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            update(daemons).where(daemons.c.daemon_id == daemon_id).values(status="stopped")
        )
        conn.execute(
            update(triggers)
            .where(triggers.c.owner == daemon_id)
            .values(owner=None, lease_until=None)
        )


def _daemon(row: Any) -> DaemonRow:
    return DaemonRow(row.daemon_id, row.host, row.pid, row.started_at, row.heartbeat_at, row.status)


def _trigger(row: Any) -> TriggerRow:
    return TriggerRow(
        row.trigger_id,
        row.pipeline,
        row.kind,
        parse_trigger_spec(row.spec, where=f"trigger {row.trigger_id!r} in the store"),
        bool(row.enabled),
        row.cursor,
        row.last_tick,
        row.next_due,
    )
