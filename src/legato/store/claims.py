"""Claims on queued and abandoned runs, so that exactly one process executes each run.

On PostgreSQL the queue is read with ``FOR UPDATE SKIP LOCKED``: daemons racing for runs never
wait on each other and never take the same one. SQLite has one daemon and one writer.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, or_, select, update

from legato.events.status import RunStatus, StepStatus
from legato.events.types import Event, EventType
from legato.store.engine import Store
from legato.store.event_log import append
from legato.store.notify import RUN_QUEUED_CHANNEL, notify
from legato.store.runs import RunRecord, get_steps, run_from_row
from legato.store.schema import runs

_ACTIVE = [RunStatus.RUNNING.value, RunStatus.CANCELING.value]


def active_runs(store: Store) -> int:
    """Runs executing now or claimed to start."""
    r = runs.c
    with store.read() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(runs)
                .where(
                    or_(
                        r.status.in_(_ACTIVE),
                        (r.status == RunStatus.QUEUED.value) & r.launcher.is_not(None),
                    )
                )
            ).scalar_one()
        )


@dataclass(frozen=True)
class QueueLimits:
    """How many runs may execute at once: in all, per pipeline, and per tag (``"team=finance"``)."""

    total: int = 4
    pipelines: Mapping[str, int] = field(default_factory=dict)
    tags: Mapping[str, int] = field(default_factory=dict)


def claim_queued(
    store: Store,
    owner: str,
    *,
    limits: QueueLimits | int,
    lease: float,
    now: float,
    most: int | None = None,
) -> list[RunRecord]:
    """Claim the queued runs that fit the limits, and at most ``most`` (what the caller can start
    now): highest priority first, then oldest first (FIFO within a priority). A run whose pipeline
    or tag is at its limit waits; later runs that fit may go first."""
    if isinstance(limits, int):
        limits = QueueLimits(total=limits)
    r = runs.c
    with store.transaction() as conn:
        active = conn.execute(
            select(r.pipeline, r.tags).where(
                or_(
                    r.status.in_(_ACTIVE),
                    (r.status == RunStatus.QUEUED.value) & r.launcher.is_not(None),
                )
            )
        ).all()
        room = limits.total - len(active)
        if most is not None:
            room = min(room, most)
        if room <= 0:
            return []
        by_pipeline = Counter(row.pipeline for row in active)
        by_tag = Counter(f"{k}={v}" for row in active for k, v in (row.tags or {}).items())
        query = (
            select(runs)
            .where(r.status == RunStatus.QUEUED.value, r.launcher.is_(None))
            .order_by(r.priority.desc(), r.created_at, r.run_id)
            .limit(max(room * 20, 100))
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        chosen: list[Any] = []
        for row in conn.execute(query).all():
            if len(chosen) >= room:
                break
            tags = [f"{k}={v}" for k, v in (row.tags or {}).items()]
            cap = limits.pipelines.get(row.pipeline or "")
            if cap is not None and by_pipeline[row.pipeline] >= cap:
                continue
            if any(t in limits.tags and by_tag[t] >= limits.tags[t] for t in tags):
                continue
            by_pipeline[row.pipeline] += 1
            by_tag.update(tags)
            chosen.append(row)
            conn.execute(
                update(runs)
                .where(r.run_id == row.run_id)
                .values(launcher=f"{owner}/{row.run_id}", lease_until=now + lease)
            )
    return [run_from_row(row) for row in chosen]


def take_over(store: Store, run_id: str, launcher: str, *, lease: float, now: float) -> bool:
    """Become the launcher of a running run if its lease expired (compare-and-set: one taker
    wins; a run that finished meanwhile is left alone)."""
    r = runs.c
    with store.transaction() as conn:
        result = conn.execute(
            update(runs)
            .where(r.run_id == run_id, r.lease_until < now, r.status.in_(_ACTIVE))
            .values(launcher=launcher, lease_until=now + lease)
        )
    return bool(result.rowcount)


def release_claim(store: Store, run_id: str) -> None:
    """Put a claimed but never started run back in the queue."""
    r = runs.c
    with store.transaction() as conn:
        conn.execute(
            update(runs)
            .where(r.run_id == run_id, r.status == RunStatus.QUEUED.value)
            .values(launcher=None, lease_until=None)
        )
        notify(conn, RUN_QUEUED_CHANNEL)


def expired_claims(store: Store, now: float) -> list[RunRecord]:
    """Runs whose claim or lease expired: queued-but-claimed, running or canceling."""
    r = runs.c
    query = select(runs).where(
        r.lease_until.is_not(None),
        r.lease_until < now,
        or_(r.status.in_(_ACTIVE), (r.status == RunStatus.QUEUED.value) & r.launcher.is_not(None)),
    )
    with store.read() as conn:
        return [run_from_row(row) for row in conn.execute(query)]


def queue_waiting(store: Store) -> bool:
    """Whether any queued run waits for a launcher (one indexed probe, cheap to poll)."""
    r = runs.c
    probe = select(r.run_id).where(r.status == RunStatus.QUEUED.value, r.launcher.is_(None))
    with store.read() as conn:
        return conn.execute(probe.limit(1)).first() is not None


def expire_claim(store: Store, run_id: str, launcher: str, now: float) -> None:
    """End a lease at once because its holder is known dead, so recovery need not wait for it."""
    with store.transaction() as conn:
        _end_lease(conn, run_id, launcher, now)


def _end_lease(conn: Connection, run_id: str, launcher: str, now: float) -> bool:
    """Expire ``launcher``'s lease of ``run_id``; False if it no longer holds the run."""
    r = runs.c
    query = update(runs).where(r.run_id == run_id, r.launcher == launcher)
    return bool(conn.execute(query.values(lease_until=now - 1.0)).rowcount)


def hand_off(store: Store, run_id: str, launcher: str, reason: str) -> None:
    """A stopping daemon stopped this run on purpose: its running attempts are marked to be
    tried again without counting against their retries, and the claim ends at once, so the
    next daemon resumes the run now (finished steps stay finished)."""
    now = time.time()
    events = [
        Event(
            EventType.STEP_RETRY,
            run_id,
            step.step_key,
            step.attempt,
            now,
            StepStatus.RETRYING.value,
            {"error": {"type": "HandedOff", "message": reason, "traceback": ""}, "retry_in": 0},
        )
        for step in get_steps(store, run_id)
        if step.status is StepStatus.RUNNING
    ]
    with store.transaction() as conn:
        if _end_lease(conn, run_id, launcher, now):  # still ours: nobody took it over meanwhile
            append(conn, events)


@dataclass(frozen=True)
class Lease:
    """Who holds a run (``launcher``) and until when; ``None`` for a run nobody claimed."""

    status: RunStatus
    launcher: str | None
    lease_until: float | None


def run_lease(store: Store, run_id: str) -> Lease:
    r = runs.c
    with store.read() as conn:
        row = conn.execute(
            select(r.status, r.launcher, r.lease_until).where(r.run_id == run_id)
        ).one()
    return Lease(RunStatus(row.status), row.launcher, row.lease_until)


def seize(
    store: Store,
    run_id: str,
    holder: str,
    new_holder: str,
    *,
    lease: float,
    now: float,
    expired_before: float | None = None,
) -> bool:
    """Take an unfinished run from ``holder``, known dead (or silent since ``expired_before``);
    compare-and-set, so that nobody who took the run over meanwhile loses it."""
    r = runs.c
    query = update(runs).where(
        r.run_id == run_id,
        r.launcher == holder,
        r.status.in_([RunStatus.QUEUED.value, *_ACTIVE]),
    )
    if expired_before is not None:
        query = query.where(r.lease_until < expired_before)
    with store.transaction() as conn:
        result = conn.execute(query.values(launcher=new_holder, lease_until=now + lease))
    return bool(result.rowcount)
