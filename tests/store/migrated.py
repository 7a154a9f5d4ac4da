"""Stores built by the migrations up to a given revision, for the schema's tests."""

from __future__ import annotations

from collections.abc import Callable

from legato.store.engine import Store
from legato.store.migrations.runner import run_migrations

EmptyStores = Callable[[], str]  # each call makes the URL of a new empty store


def migrated_store(url: str, revision: str = "head") -> Store:
    """A store at ``url`` built by the migrations up to ``revision``."""
    store = Store(url, create=False)
    with store.schema_transaction() as conn:
        run_migrations(conn, revision)
    return store
