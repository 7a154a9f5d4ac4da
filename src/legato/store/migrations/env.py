"""Alembic environment: runs migrations on the connection handed in by ``runner.upgrade``."""

from __future__ import annotations

from alembic import context

from legato.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
context.run_migrations()
