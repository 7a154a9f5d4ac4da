"""Tables of scale-out execution: the step queue remote workers claim from, their streamed log
chunks, the workers themselves, and pool slots (named concurrency limits across processes).

Timestamps are float seconds since the epoch; leases are compared with the database's clock, so
hosts with skewed clocks still agree on when a lease has expired.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from legato.store.schema import metadata

_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only

# One row per step attempt sent to remote workers. status: queued → claimed → done, or lost
# (its lease expired: the engine retries with a new row) or cancelled. ``epoch`` is bumped by
# every claim; a worker's writes name the epoch it claimed, so a stale worker's writes match
# nothing (fencing).
step_queue = Table(
    "step_queue",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("run_id", String(40), nullable=False),
    Column("step_key", String(1200), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("queue", String(64), nullable=False),
    Column("spec", Text, nullable=False),  # JSON, never pickle
    Column("status", String(12), nullable=False),
    Column("worker_id", String(120)),
    Column("lease_until", Float),
    Column("epoch", Integer, nullable=False, default=0),
    Column("outcome", Text),  # JSON
    Column("created_at", Float, nullable=False),
    Column("claimed_at", Float),
    Column("finished_at", Float),
    UniqueConstraint("run_id", "step_key", "attempt", name="uq_step_queue_attempt"),
)
Index("ix_step_queue_claim", step_queue.c.queue, step_queue.c.status, step_queue.c.id)
Index("ix_step_queue_run", step_queue.c.run_id, step_queue.c.status)

# Log lines of a step attempt still running on a remote worker (the rest come with the outcome).
step_logs = Table(
    "step_logs",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column(
        "item_id",
        BigInteger,
        ForeignKey("step_queue.id", ondelete="CASCADE", name="fk_step_logs_item"),
        nullable=False,
    ),
    Column("lines", Text, nullable=False),  # JSON list of (ts, level, stream, message)
)
Index("ix_step_logs_item", step_logs.c.item_id, step_logs.c.id)

# Workers say they are alive here; what they run is in step_queue.
workers = Table(
    "workers",
    metadata,
    Column("worker_id", String(120), primary_key=True),
    Column("queue", String(64), nullable=False),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("concurrency", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("stopped_at", Float),
)

# A pool's row is what holders lock (PostgreSQL) to count and take slots one at a time.
pools = Table(
    "pools",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("slots", Integer, nullable=False),
)

pool_slots = Table(
    "pool_slots",
    metadata,
    Column(
        "pool",
        String(64),
        ForeignKey("pools.name", ondelete="CASCADE", name="fk_pool_slots_pool"),
        primary_key=True,
    ),
    Column("holder", String(255), primary_key=True),
    Column("acquired_at", Float, nullable=False),
    Column("lease_until", Float, nullable=False),
)
