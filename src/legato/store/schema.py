"""Tables and indexes. Timestamps are float seconds since the epoch (UTC); JSON documents are
``Json`` columns (JSONB on PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from legato._internal.ids import RUN_KEY_LENGTH
from legato.store._json import Json

TRIGGER_LENGTH = 255  # what asked for a run: "schedule:<trigger id>", "api:<caller>", ...

# The Alembic revision this metadata corresponds to. A fresh store is created from the metadata and
# stamped with it; an older store is upgraded by the migrations (a test keeps the two in step).
HEAD_REVISION = "0012"

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("pipeline", String(255)),
    Column("selection", Text, nullable=False),
    Column("partition", Text, nullable=False, default=""),  # the run's keys, joined by "|"
    Column("status", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("parent_run_id", String(40)),
    Column("idempotency_key", String(RUN_KEY_LENGTH)),
    Column("executor", String(32), nullable=False, default=""),
    Column("tags", Json, nullable=False, default=dict),
    Column("config", Json, nullable=False, default=dict),
    Column("error", Json),  # the error of a failed run
    Column("priority", Integer, nullable=False, default=0),
    Column("trigger", String(TRIGGER_LENGTH), nullable=False, default="manual"),
    Column(
        "from_failure", Boolean, nullable=False, default=False
    ),  # a rerun reusing what succeeded
    Column("backfill_id", String(40), ForeignKey("backfills.backfill_id", name="fk_runs_backfill")),
    Column("launcher", String(80)),  # the process that claimed the run to execute it
    Column("lease_until", Float),  # its claim expires then unless renewed
    UniqueConstraint("idempotency_key", name="uq_runs_idempotency_key"),
)
# Lists of runs are newest first, continued after a (created_at, run_id) cursor: each filter on a
# column of its own has an index ending in those two, so a page is read in order from the index.
Index("ix_runs_created", runs.c.created_at, runs.c.run_id)
Index("ix_runs_status_created", runs.c.status, runs.c.created_at, runs.c.run_id)
Index("ix_runs_pipeline_created", runs.c.pipeline, runs.c.created_at, runs.c.run_id)
Index("ix_runs_pipeline_status", runs.c.pipeline, runs.c.status, runs.c.created_at, runs.c.run_id)
Index("ix_runs_trigger_created", runs.c.trigger, runs.c.created_at, runs.c.run_id)
Index("ix_runs_queue", runs.c.status, runs.c.priority, runs.c.created_at)
_IN_BACKFILL = runs.c.backfill_id.is_not(None)  # most runs are in none: no entry for them
_RUNS_BY_BACKFILL = Index(
    "ix_runs_backfill",
    runs.c.backfill_id,
    runs.c.created_at,
    runs.c.run_id,
    sqlite_where=_IN_BACKFILL,
)


def add_postgresql_options() -> None:
    """Give the partial index its PostgreSQL ``WHERE``, before a PostgreSQL store is used.

    Naming a dialect's option makes SQLAlchemy import that dialect (40 ms of start-up); a process
    on SQLite, the default, never opens a PostgreSQL store, so it never pays for it."""
    options = _RUNS_BY_BACKFILL.dialect_options["postgresql"]
    if options["where"] is None:
        options["where"] = _IN_BACKFILL


# What a run is filtered by that is not one short column of it: each node it has a step of, each
# tag, and its partition keys (any length). One row per (kind, value) of a run, keyed in list
# order, so runs of an asset, a tag or a partition are read newest first from the key alone
# (legato.store.run_facets writes them, legato.store.run_search reads them). No index by run:
# a run's facets follow from its row and its steps, so they are deleted by their keys.
run_facets = Table(
    "run_facets",
    metadata,
    Column("kind", String(10), primary_key=True),  # node | tag | partition
    Column("value", String(255), primary_key=True),  # longer values are hashed to fit
    Column("created_at", Float, primary_key=True),  # the run's
    Column("run_id", String(40), primary_key=True),
    sqlite_with_rowid=False,  # the key is the whole row: one B-tree, not a table and its key
)

# Runs kept whatever the retention policy says, with what they need (legato.store.pins).
run_pins = Table(
    "run_pins",
    metadata,
    Column(
        "run_id",
        String(40),
        ForeignKey("runs.run_id", ondelete="CASCADE", name="fk_run_pins_run"),
        primary_key=True,
    ),
    Column("pinned_at", Float, nullable=False),
    Column("pinned_by", String(80), nullable=False),
)

# Runs deleted by retention whose steps, events and logs are still being deleted, a few hundred
# rows per transaction (legato.store.retention); a run's row goes first, so it vanishes at once.
pruned_runs = Table(
    "pruned_runs",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("pruned_at", Float, nullable=False),
)

steps = Table(
    "steps",
    metadata,
    Column("run_id", String(40), primary_key=True),
    Column("step_key", String(1200), primary_key=True),
    Column("node", String(255), nullable=False),
    Column("partition", String(1024), nullable=False, default=""),
    Column("map_index", Integer, nullable=False, default=-1),
    Column("kind", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempt", Integer, nullable=False, default=0),
    Column("started_at", Float),
    Column("ended_at", Float),
    Column("reused_from", String(40)),
    Column("error", Json),
)
Index("ix_steps_node", steps.c.node, steps.c.partition)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), nullable=False),
    Column("step_key", String(1200), nullable=False, default=""),
    Column("type", String(32), nullable=False),
    Column("ts", Float, nullable=False),
    Column("attempt", Integer, nullable=False, default=0),
    Column("status", String(16)),
    Column("data", Json, nullable=False, default=dict),
)
Index("ix_events_run", events.c.run_id, events.c.id)

materializations = Table(
    "materializations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asset_key", String(255), nullable=False),
    Column("partition", String(1024), nullable=False, default=""),
    Column("run_id", String(40), nullable=False),
    Column("step_key", String(1200), nullable=False),
    Column("ts", Float, nullable=False),
    Column("metadata", Json, nullable=False, default=dict),
)
Index(
    "ix_materializations_asset",
    materializations.c.asset_key,
    materializations.c.partition,
    materializations.c.id,
)
Index("ix_materializations_run", materializations.c.run_id)

# The state of every asset partition ever touched: its latest materialization (if any) and the
# status of its latest attempt. "missing" keys have no row; "stale" is computed from upstreams.
asset_latest = Table(
    "asset_latest",
    metadata,
    Column("asset_key", String(255), primary_key=True),
    Column("partition", String(1024), primary_key=True),
    Column("status", String(16), nullable=False),  # materialized | in_progress | failed
    Column("run_id", String(40), nullable=False),  # run of the latest attempt
    Column("step_key", String(1200), nullable=False),
    Column("ts", Float, nullable=False),  # when the status last changed
    Column("materialized_at", Float),
    Column("materialized_run", String(40)),
    Column("metadata", Json, nullable=False, default=dict),
    # the status before the latest write (none: the row is new), which the write returns with the
    # new one to keep the counts by status (store/latest_counts.py)
    Column("previous_status", String(16)),
)
# the statuses and materialization times stale keys are counted by (store/staleness.py)
Index(
    "ix_asset_latest_status_time",
    asset_latest.c.asset_key,
    asset_latest.c.status,
    asset_latest.c.materialized_at,
)

# How many keys of each asset have each status: asset_latest grouped by asset and status, kept by
# the statements that write asset_latest (store/latest_counts.py): counting reads no row per key
asset_status_counts = Table(
    "asset_status_counts",
    metadata,
    Column("asset_key", String(255), primary_key=True),
    Column("status", String(16), primary_key=True),
    Column("key_count", Integer, nullable=False),
)

logs = Table(
    "logs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(40), nullable=False),
    Column("step_key", String(1200), nullable=False),
    Column("ts", Float, nullable=False),
    Column("level", String(12), nullable=False),
    Column("stream", String(8), nullable=False),
    Column("message", Text, nullable=False),
)
Index("ix_logs_run_step", logs.c.run_id, logs.c.step_key, logs.c.id)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("location", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("data", Json, nullable=False),
)
Index("ix_snapshots_location", snapshots.c.location, snapshots.c.id)

# Tables owned by other parts of the store are declared in their own modules on the same metadata.
# Each is imported here so that creating or migrating the schema sees every table.
from legato.store import (
    schema_alerts,
    schema_automation,
    schema_checks,
    schema_freshness,
    schema_partitions,
    schema_web,
    schema_workers,
)
