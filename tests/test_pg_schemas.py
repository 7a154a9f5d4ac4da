"""The store tests' reused PostgreSQL schemas: a test gets one as empty as a new one, and a
schema a test changed, or still holds, is never handed on."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

import pg_schemas
from legato.store.engine import Store


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[str]:
    yield postgres_url
    pg_schemas.drop_reusable(postgres_url)


def _open(postgres_url: str) -> tuple[pg_schemas.StoreSchema, Store]:
    schema = pg_schemas.StoreSchema(postgres_url)
    store = Store(schema.url)
    schema.opened()
    return schema, store


def _event_ids(store: Store) -> list[int]:
    with store.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO events (run_id, step_key, type, ts, attempt, data) "
                "VALUES ('r', '', 'RUN_STARTED', 0, 0, '{}')"
            )
        )
        return [row[0] for row in conn.execute(text("SELECT id FROM events ORDER BY id"))]


def test_a_reused_schema_is_empty_and_numbers_rows_from_one_again(postgres: str) -> None:
    first, store = _open(postgres)
    assert _event_ids(store) == [1]
    store.dispose()
    first.release()

    second, store = _open(postgres)
    assert second.name == first.name
    assert _event_ids(store) == [1]
    store.dispose()
    second.release()


def test_a_schema_whose_definition_a_test_changed_is_dropped(postgres: str) -> None:
    first, store = _open(postgres)
    with store.transaction() as conn:
        conn.execute(text("ALTER TABLE runs ADD COLUMN note TEXT"))
    store.dispose()
    first.release()

    second = pg_schemas.StoreSchema(postgres)
    assert second.name != first.name
    second.release()
    with psycopg.connect(postgres.replace("+psycopg", "")) as conn:
        gone = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (first.name,)
        ).fetchone()
    assert gone == (0,)


def test_a_schema_a_connection_still_holds_is_not_handed_on(postgres: str) -> None:
    first, store = _open(postgres)
    leaked = Store(first.url)
    leaked.revision()  # a connection of it stays in its pool
    store.dispose()
    try:
        first.release()
    finally:
        leaked.dispose()
    second = pg_schemas.StoreSchema(postgres)
    assert second.name != first.name
    second.release()
