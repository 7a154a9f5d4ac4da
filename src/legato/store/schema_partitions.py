"""Tables for partitions: the keys of dynamic partition sets, and backfills."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Index, Integer, String, Table, Text

from legato.store._json import Json
from legato.store.schema import metadata

dynamic_partitions = Table(
    "dynamic_partitions",
    metadata,
    Column("set_name", String(255), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("added_at", Float, nullable=False),
    Column("added_by", String(255), nullable=False, default="api"),
)

backfills = Table(
    "backfills",
    metadata,
    Column("backfill_id", String(40), primary_key=True),
    Column("selection", Text, nullable=False),
    Column("keys", Json, nullable=False),  # JSON list of partition keys, in request order
    Column(
        "status", String(16), nullable=False
    ),  # requested|running|paused|completed|failed|cancelled
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("max_concurrent", Integer, nullable=False, default=1),
    Column("missing_only", Boolean, nullable=False, default=False),
    Column("plan", Json, nullable=False, default=list),  # JSON: ordered run groups and their deps
    Column("executor", String(32), nullable=False, default="process"),
    Column("tags", Json, nullable=False, default=dict),
    Column("driver", String(80)),  # the process driving it now
    Column("lease_until", Float),
    Column("error", Text),
    Column("config", Json),  # the run config each of its runs gets (NULL: none)
)
Index("ix_backfills_status", backfills.c.status, backfills.c.created_at)
