"""PostgreSQL-only schema options are given when a PostgreSQL store is opened, so that a process
on the default SQLite store never imports SQLAlchemy's PostgreSQL dialect (40 ms of start-up),
while a PostgreSQL store still gets them, created fresh or built by the migrations."""

from __future__ import annotations

import subprocess
import sys

from migrated import EmptyStores, migrated_store
from sqlalchemy import text

from legato.store.engine import Store


def test_a_command_on_sqlite_never_imports_the_postgresql_dialect(tmp_path) -> None:
    probe = (
        "import sys, legato.cli.run, legato.automation.run_worker;"
        "from legato.store.engine import Store;"
        f"Store('sqlite:///{tmp_path}/legato.db').dispose();"
        "print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_runs_backfill_index_is_partial_on_postgresql(empty_store: EmptyStores) -> None:
    for store in (Store(empty_store()), migrated_store(empty_store())):
        try:
            if store.is_sqlite:
                query = "SELECT sql FROM sqlite_master WHERE name = 'ix_runs_backfill'"
            else:
                query = (
                    "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_runs_backfill'"
                    " AND schemaname = current_schema()"
                )
            with store.read() as conn:
                definition = conn.execute(text(query)).scalar_one()
            assert "WHERE" in definition.upper() and "backfill_id IS NOT NULL" in definition
        finally:
            store.dispose()
