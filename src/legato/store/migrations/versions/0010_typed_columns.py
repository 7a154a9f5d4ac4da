"""The schema in the open: JSON documents as JSONB on PostgreSQL, flags as booleans, and foreign
keys where the rows they join always exist.

- **JSON**: every column holding a JSON document (run tags, config and errors, event data,
  metadata, details, trigger specs, backfill keys and plans, snapshots) becomes ``JSONB`` on
  PostgreSQL, so the server validates it and it can be queried. SQLite keeps JSON as text, which
  its JSON functions read; nothing changes there. PostgreSQL refuses the NUL character in JSONB
  strings (JSON and SQLite allow it): a stored ``\\u0000`` becomes U+FFFD.
- **Booleans**: ``runs.from_failure``, ``triggers.enabled``, ``check_results.blocking``,
  ``backfills.missing_only`` and ``web_users.active`` were integers 0/1.
- **Foreign keys**: a user's sessions and tokens, an alert's deliveries, a queued step's streamed
  log chunks, a pool's slots and a run's pin go with the row they belong to (``ON DELETE
  CASCADE``), and a run's backfill must exist. Rows that already point at nothing (none should)
  are deleted first, and a run's dangling backfill id is cleared, or the keys could not be added.
  Steps, events, logs and materializations have no key to their run: retention deletes a run's
  row first, so the run vanishes at once, and its many rows after, a few hundred per transaction.

SQLite cannot alter a column's type or add a key in place: the tables concerned are copied
(Alembic's batch mode), referenced tables before the tables that reference them, because with
``PRAGMA foreign_keys=ON`` dropping a referenced table would cascade.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON_COLUMNS: dict[str, tuple[str, ...]] = {
    "runs": ("tags", "config", "error"),
    "steps": ("error",),
    "events": ("data",),
    "materializations": ("metadata",),
    "asset_latest": ("metadata",),
    "snapshots": ("data",),
    "alert_outbox": ("detail",),
    "alerts": ("detail", "channels"),
    "triggers": ("spec",),
    "check_results": ("metadata",),
    "violations": ("detail",),
    "backfills": ("keys", "plan", "tags"),
    "web_audit": ("detail",),
}
BOOLEANS: dict[
    str, tuple[str, ...]
] = {  # in the order SQLite copies them: backfills before runs, which will reference it
    "backfills": ("missing_only",),
    "runs": ("from_failure",),
    "triggers": ("enabled",),
    "check_results": ("blocking",),
    "web_users": ("active",),
}
# (name, table, column, referenced table, referenced column, ON DELETE)
FOREIGN_KEYS = (
    ("fk_runs_backfill", "runs", "backfill_id", "backfills", "backfill_id", None),
    ("fk_run_pins_run", "run_pins", "run_id", "runs", "run_id", "CASCADE"),
    ("fk_web_sessions_user", "web_sessions", "user_id", "web_users", "user_id", "CASCADE"),
    ("fk_web_tokens_user", "web_tokens", "user_id", "web_users", "user_id", "CASCADE"),
    ("fk_alert_deliveries_alert", "alert_deliveries", "alert_id", "alerts", "alert_id", "CASCADE"),
    ("fk_step_logs_item", "step_logs", "item_id", "step_queue", "id", "CASCADE"),
    ("fk_pool_slots_pool", "pool_slots", "pool", "pools", "name", "CASCADE"),
)

# JSON text as JSONB: empty text was "nothing recorded"; a NUL escape (not preceded by an
# escaped backslash) becomes U+FFFD, which PostgreSQL accepts.
_NUL = r"(?<!\\)((?:\\\\)*)\\u0000"
_AS_JSONB = (
    "CASE WHEN {c} IS NULL OR {c} = '' THEN NULL"
    " WHEN strpos({c}, '\\u0000') > 0"
    " THEN regexp_replace({c}, '" + _NUL + "', '\\1\\\\ufffd', 'g')::jsonb"
    " ELSE {c}::jsonb END"
)


def upgrade() -> None:
    _drop_dangling_references()
    if op.get_bind().dialect.name == "postgresql":
        for table, columns in JSON_COLUMNS.items():
            _alter(table, [f'"{c}" TYPE JSONB USING {_AS_JSONB.format(c=_q(c))}' for c in columns])
        for table, columns in BOOLEANS.items():
            _alter(table, [f'"{c}" TYPE BOOLEAN USING "{c}" <> 0' for c in columns])
        for name, table, column, target, target_column, on_delete in FOREIGN_KEYS:
            op.create_foreign_key(
                name, table, target, [column], [target_column], ondelete=on_delete
            )
        return
    for table, columns in BOOLEANS.items():
        with op.batch_alter_table(table, recreate="always") as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Boolean(), existing_type=sa.Integer())
            _add_keys(batch, table)
    for table in dict.fromkeys(fk[1] for fk in FOREIGN_KEYS):
        if table not in BOOLEANS:
            with op.batch_alter_table(table, recreate="always") as batch:
                _add_keys(batch, table)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, *_ in FOREIGN_KEYS:
            op.drop_constraint(name, table, type_="foreignkey")
        for table, columns in BOOLEANS.items():
            _alter(
                table,
                [f'"{c}" TYPE INTEGER USING CASE WHEN "{c}" THEN 1 ELSE 0 END' for c in columns],
            )
        for table, columns in JSON_COLUMNS.items():
            _alter(table, [f'"{c}" TYPE TEXT USING "{c}"::text' for c in columns])
        return
    for table in reversed(list(dict.fromkeys(fk[1] for fk in FOREIGN_KEYS))):
        with op.batch_alter_table(table, recreate="always") as batch:
            for name, fk_table, *_ in FOREIGN_KEYS:
                if fk_table == table:
                    batch.drop_constraint(name, type_="foreignkey")
    for table, columns in BOOLEANS.items():
        with op.batch_alter_table(table, recreate="always") as batch:
            for column in columns:
                batch.alter_column(column, type_=sa.Integer(), existing_type=sa.Boolean())


def _q(column: str) -> str:
    return f'"{column}"'


def _alter(table: str, clauses: list[str]) -> None:
    """One ALTER TABLE for all of a table's columns: PostgreSQL rewrites the table once."""
    op.execute(f'ALTER TABLE "{table}" ' + ", ".join(f"ALTER COLUMN {c}" for c in clauses))


def _add_keys(batch: object, table: str) -> None:
    for name, fk_table, column, target, target_column, on_delete in FOREIGN_KEYS:
        if fk_table == table:
            batch.create_foreign_key(  # type: ignore[attr-defined]
                name, target, [column], [target_column], ondelete=on_delete
            )


def _drop_dangling_references() -> None:
    for _name, table, column, target, target_column, on_delete in FOREIGN_KEYS:
        rows = sa.table(table, sa.column(column))
        referenced = sa.table(target, sa.column(target_column))
        ref = rows.c[column]
        orphan = sa.and_(ref.is_not(None), ref.not_in(sa.select(referenced.c[target_column])))
        if on_delete == "CASCADE":
            op.execute(rows.delete().where(orphan))
        else:
            op.execute(rows.update().where(orphan).values({column: None}))
