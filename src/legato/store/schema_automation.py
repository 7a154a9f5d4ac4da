"""Tables of the automation daemon: triggers with their cursors and leases, tick history,
daemon heartbeats and dead-lettered messages."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text, UniqueConstraint

from legato.store._json import Json
from legato.store.schema import metadata

TICK_KEY_LENGTH = 300  # keys made from user data are bounded to it (hashing the excess)

triggers = Table(
    "triggers",
    metadata,
    Column("trigger_id", String(300), primary_key=True),  # "<pipeline>#<index>:<kind>"
    Column("pipeline", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("spec", Json, nullable=False),  # the trigger's description from the snapshot
    Column("enabled", Boolean, nullable=False, default=True),
    Column("cursor", Text),  # sensors, OnUpdate and consumers: where they got to
    Column("last_tick", Float),  # schedules: the latest tick handled
    Column("next_due", Float, nullable=False, default=0.0),
    Column("owner", String(120)),  # the daemon evaluating it now
    Column("lease_until", Float),
    Column("updated_at", Float, nullable=False),
)
Index("ix_triggers_due", triggers.c.enabled, triggers.c.next_due)

ticks = Table(
    "ticks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trigger_id", String(300), nullable=False),
    Column(
        "tick_key", String(TICK_KEY_LENGTH), nullable=False
    ),  # the scheduled time, cursor or message id
    Column("ts", Float, nullable=False),
    Column("status", String(16), nullable=False),  # requested | skipped | failed
    Column("run_id", String(40)),
    Column("reason", Text),
    UniqueConstraint("trigger_id", "tick_key", name="uq_ticks_trigger_key"),
)
Index("ix_ticks_trigger", ticks.c.trigger_id, ticks.c.id)

daemons = Table(
    "daemons",
    metadata,
    Column("daemon_id", String(120), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("heartbeat_at", Float, nullable=False),
    Column("status", String(32), nullable=False, default="running"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trigger_id", String(300), nullable=False),
    Column("message_id", String(TICK_KEY_LENGTH), nullable=False),
    Column("reason", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("ts", Float, nullable=False),
)
