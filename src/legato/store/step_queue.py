"""The step queue: step attempts handed to remote workers through PostgreSQL.

The engine's executor enqueues specs (JSON text) and collects outcomes; workers claim rows with
``FOR UPDATE SKIP LOCKED``, hold them under a lease they renew, and finish them with a fenced
write (``WHERE epoch = :claimed AND status = 'claimed'``): once a lease has expired and the row was
marked lost, or the step was cancelled, a stale worker's writes match no row and are rejected.
Every lease is compared with the database's clock. ``LISTEN``/``NOTIFY`` wakes waiting parties.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Float,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    tuple_,
    update,
)

from legato.store.engine import Store
from legato.store.notify import notify
from legato.store.schema_workers import step_logs, step_queue, workers

QUEUED, CLAIMED, DONE, LOST, CANCELLED = "queued", "claimed", "done", "lost", "cancelled"
QUEUED_CHANNEL = "legato_step_queued"  # payload: the queue's name
DONE_CHANNEL = "legato_step_done"  # payload: the run id
_q = step_queue.c


def db_now(dialect: str) -> Any:
    """The database's clock in epoch seconds, as a SQL expression."""
    if dialect == "postgresql":
        return cast(func.extract("epoch", func.clock_timestamp()), Float)
    return (func.julianday("now") - 2440587.5) * 86400.0


@dataclass(frozen=True)
class NewItem:
    run_id: str
    step_key: str
    attempt: int
    queue: str
    spec: str


@dataclass(frozen=True)
class Claimed:
    id: int
    epoch: int
    run_id: str
    step_key: str
    attempt: int
    spec: str


@dataclass(frozen=True)
class Finished:
    id: int
    status: str
    outcome: str | None


def enqueue(store: Store, items: Sequence[NewItem]) -> list[int]:
    """Insert queued rows (one transaction) and wake the workers of their queues."""
    if not items:
        return []
    with store.transaction() as conn:
        now = conn.execute(select(db_now(conn.dialect.name))).scalar_one()
        rows = [
            {
                "run_id": i.run_id,
                "step_key": i.step_key,
                "attempt": i.attempt,
                "queue": i.queue,
                "spec": i.spec,
                "status": QUEUED,
                "epoch": 0,
                "created_at": now,
            }
            for i in items
        ]
        ids = [r.id for r in conn.execute(insert(step_queue).returning(_q.id), rows)]
        for queue in sorted({i.queue for i in items}):
            notify(conn, QUEUED_CHANNEL, queue)
    return ids


def claim(store: Store, queue: str, worker_id: str, limit: int, lease: float) -> list[Claimed]:
    """Claim up to ``limit`` queued rows of ``queue``, oldest first, under a lease."""
    if limit <= 0:
        return []
    with store.transaction() as conn:
        now = db_now(conn.dialect.name)
        nxt = (
            select(_q.id)
            .where(_q.queue == queue, _q.status == QUEUED)
            .order_by(_q.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("next_items")
        )
        stmt = (
            update(step_queue)
            .where(_q.id == nxt.c.id)
            .values(
                status=CLAIMED,
                worker_id=worker_id,
                epoch=_q.epoch + 1,
                lease_until=now + lease,
                claimed_at=now,
            )
            .returning(_q.id, _q.epoch, _q.run_id, _q.step_key, _q.attempt, _q.spec)
        )
        rows = conn.execute(stmt).all()
    return sorted((Claimed(*row) for row in rows), key=lambda c: c.id)


def renew(store: Store, held: Iterable[tuple[int, int]], lease: float) -> set[int]:
    """Extend the leases of ``(id, epoch)`` rows still claimed; return the ids still held."""
    held = list(held)
    if not held:
        return set()
    with store.transaction() as conn:
        rows = conn.execute(
            update(step_queue)
            .where(_q.status == CLAIMED, tuple_(_q.id, _q.epoch).in_(held))
            .values(lease_until=db_now(conn.dialect.name) + lease)
            .returning(_q.id)
        ).all()
    return {r.id for r in rows}


def add_log_chunks(store: Store, chunks: Sequence[tuple[int, int, str]]) -> set[int]:
    """Append ``(id, epoch, lines_json)`` chunks of rows still held; return the rejected ids."""
    rejected = set()
    with store.transaction() as conn:
        for item_id, epoch, lines in chunks:
            held = exists().where(_q.id == item_id, _q.epoch == epoch, _q.status == CLAIMED)
            stmt = insert(step_logs).from_select(
                ["item_id", "lines"], select(literal(item_id), literal(lines)).where(held)
            )
            # An INSERT's rowcount is -1 unless asked to be kept (SQLAlchemy keeps it for
            # UPDATE and DELETE only), and every chunk would look rejected.
            inserted = conn.execute(stmt, execution_options={"preserve_rowcount": True})
            if inserted.rowcount != 1:
                rejected.add(item_id)
    return rejected


def finish(store: Store, results: Sequence[tuple[int, int, str, str]]) -> set[int]:
    """Record ``(id, epoch, run_id, outcome_json)`` outcomes, fenced; return the accepted ids."""
    accepted = set()
    with store.transaction() as conn:
        now = db_now(conn.dialect.name)
        for item_id, epoch, run_id, outcome in results:
            done = conn.execute(
                update(step_queue)
                .where(_q.id == item_id, _q.epoch == epoch, _q.status == CLAIMED)
                .values(status=DONE, outcome=outcome, finished_at=now, lease_until=None)
            )
            if done.rowcount == 1:
                accepted.add(item_id)
                notify(conn, DONE_CHANNEL, run_id)
    return accepted


def collect(
    store: Store, ids: Sequence[int], after_chunk: int
) -> tuple[list[Finished], list[tuple[int, int, str]]]:
    """Finished rows among ``ids``, then log chunks of ``ids`` newer than ``after_chunk``.

    Rows are read first: every chunk a worker wrote before its outcome is then visible to the
    second read, so no line is returned after the outcome that ends its step.
    """
    if not ids:
        return [], []
    with store.read() as conn:
        done = conn.execute(
            select(_q.id, _q.status, _q.outcome).where(
                _q.id.in_(ids), _q.status.in_((DONE, LOST, CANCELLED))
            )
        ).all()
        chunks = conn.execute(
            select(step_logs.c.id, step_logs.c.item_id, step_logs.c.lines)
            .where(step_logs.c.item_id.in_(ids), step_logs.c.id > after_chunk)
            .order_by(step_logs.c.id)
        ).all()
    return [Finished(*r) for r in done], [(r.id, r.item_id, r.lines) for r in chunks]


def expire(store: Store, ids: Sequence[int]) -> list[tuple[int, str | None]]:
    """Mark claimed rows among ``ids`` whose lease ran out as lost; return (id, worker_id)."""
    if not ids:
        return []
    with store.transaction() as conn:
        now = db_now(conn.dialect.name)
        rows = conn.execute(
            update(step_queue)
            .where(_q.id.in_(ids), _q.status == CLAIMED, _q.lease_until < now)
            .values(status=LOST, finished_at=now)
            .returning(_q.id, _q.worker_id)
        ).all()
    return [(r.id, r.worker_id) for r in rows]


def cancel(store: Store, ids: Sequence[int]) -> None:
    """Withdraw queued or claimed rows; their workers' next writes are rejected."""
    if not ids:
        return
    with store.transaction() as conn:
        conn.execute(
            update(step_queue)
            .where(_q.id.in_(ids), _q.status.in_((QUEUED, CLAIMED)))
            .values(status=CANCELLED, finished_at=db_now(conn.dialect.name))
        )


def forget_logs(store: Store, ids: Sequence[int]) -> None:
    """Drop the streamed chunks of collected rows (their lines are in the event store now)."""
    if ids:
        with store.transaction() as conn:
            conn.execute(step_logs.delete().where(step_logs.c.item_id.in_(ids)))


def counts(store: Store, queue: str | None = None) -> dict[str, int]:
    """Rows per status (of one queue, or all), for monitoring and tests."""
    query = select(_q.status, func.count()).group_by(_q.status)
    if queue is not None:
        query = query.where(_q.queue == queue)
    with store.read() as conn:
        return {status: int(n) for status, n in conn.execute(query)}


# -- workers -------------------------------------------------------------------------------------


def worker_seen(
    store: Store, worker_id: str, queue: str, host: str, pid: int, concurrency: int
) -> None:
    """Register a worker, or record that it is still alive."""
    from legato.store.event_log import upsert

    with store.transaction() as conn:
        now = conn.execute(select(db_now(conn.dialect.name))).scalar_one()
        values = {
            "worker_id": worker_id,
            "queue": queue,
            "host": host,
            "pid": pid,
            "concurrency": concurrency,
            "started_at": now,
            "last_seen": now,
        }
        stmt = upsert(conn.dialect.name, workers).values(**values)
        conn.execute(
            stmt.on_conflict_do_update(index_elements=["worker_id"], set_={"last_seen": now})
        )


def worker_stopped(store: Store, worker_id: str) -> None:
    with store.transaction() as conn:
        conn.execute(
            update(workers)
            .where(workers.c.worker_id == worker_id)
            .values(stopped_at=db_now(conn.dialect.name))
        )
