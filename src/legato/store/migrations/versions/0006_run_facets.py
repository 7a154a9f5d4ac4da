"""Runs lists read from indexes: run facets (the nodes, tags and partition keys a run is found
by), filled from the runs and steps already recorded, and list indexes ending in
(created_at, run_id).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from legato.store.run_facets import facet_value, tag_value

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_LISTS = {  # index → (old columns, new columns)
    "ix_runs_created": (["created_at"], ["created_at", "run_id"]),
    "ix_runs_status_created": (["status", "created_at"], ["status", "created_at", "run_id"]),
    "ix_runs_pipeline_created": (["pipeline", "created_at"], ["pipeline", "created_at", "run_id"]),
    "ix_runs_backfill": (["backfill_id"], ["backfill_id", "created_at", "run_id"]),
}
_PARTIAL = {"ix_runs_backfill": sa.text("backfill_id IS NOT NULL")}  # no entry for most runs
_NEW = {
    "ix_runs_pipeline_status": ["pipeline", "status", "created_at", "run_id"],
    "ix_runs_trigger_created": ["trigger", "created_at", "run_id"],
}
_CHUNK = 5000


def upgrade() -> None:
    for name, (_, columns) in _LISTS.items():
        op.drop_index(name, table_name="runs")
        where = _PARTIAL.get(name)
        op.create_index(
            name, "runs", columns, unique=False, sqlite_where=where, postgresql_where=where
        )
    for name, columns in _NEW.items():
        op.create_index(name, "runs", columns, unique=False)
    op.create_table(
        "run_facets",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "created_at", "run_id"),
        sqlite_with_rowid=False,
    )
    _fill_facets(op.get_bind())


def _fill_facets(conn: sa.Connection) -> None:
    """The facets of every run recorded so far: nodes and short partitions in SQL, tags and long
    partitions (hashed) a chunk of runs at a time."""
    conn.execute(
        sa.text(
            "INSERT INTO run_facets (kind, value, created_at, run_id) "
            "SELECT DISTINCT 'node', s.node, r.created_at, r.run_id "
            "FROM steps s JOIN runs r ON r.run_id = s.run_id"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO run_facets (kind, value, created_at, run_id) "
            "SELECT 'partition', r.partition, r.created_at, r.run_id FROM runs r "
            "WHERE r.partition <> '' AND length(r.partition) <= 255"
        )
    )
    query = sa.text(
        "SELECT run_id, created_at, partition, tags FROM runs "
        "WHERE run_id > :after AND (tags <> '{}' OR length(partition) > 255) "
        "ORDER BY run_id LIMIT :n"
    )
    insert = sa.text(
        "INSERT INTO run_facets (kind, value, created_at, run_id) VALUES (:k, :v, :c, :r)"
    )
    after = ""
    while True:
        rows = conn.execute(query, {"after": after, "n": _CHUNK}).all()
        if not rows:
            return
        facets = []
        for run_id, created, partition, tags in rows:
            values = [("tag", tag_value(str(k), str(v))) for k, v in _tags(tags).items()]
            if len(partition) > 255:
                values.append(("partition", facet_value(partition)))
            facets += [{"k": k, "v": v, "c": created, "r": run_id} for k, v in values]
        if facets:
            conn.execute(insert, facets)
        after = rows[-1][0]


def _tags(text: str | None) -> dict[str, object]:
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def downgrade() -> None:
    op.drop_table("run_facets")
    for name in _NEW:
        op.drop_index(name, table_name="runs")
    for name, (columns, _) in _LISTS.items():
        op.drop_index(name, table_name="runs")
        op.create_index(name, "runs", columns, unique=False)
