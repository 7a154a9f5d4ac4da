"""The store's schema over time: the migrations build exactly what the code declares, every older
revision upgrades to the head, and processes opening a new store together create it once."""

from __future__ import annotations

import secrets
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from migrated import EmptyStores
from migrated import migrated_store as _migrated
from sqlalchemy import Connection, inspect, text

from legato.errors import StoreError
from legato.store.engine import Store
from legato.store.migrations.runner import alembic_config, revisions, run_migrations
from legato.store.schema import HEAD_REVISION, metadata
from newer_schema import CURRENT, NEXT, pretend_a_newer_legato


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, metadata))


def test_the_head_revision_is_the_one_the_code_declares() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION
    assert revisions()[-1] == HEAD_REVISION


def test_the_migrations_build_exactly_the_schema_the_code_declares(empty_store: EmptyStores):
    """What ``alembic check`` asks: nothing to autogenerate between the migrated store and the
    tables, columns, types, defaults, indexes and constraints of ``schema.metadata``."""
    store = _migrated(empty_store())
    with store.read() as conn:
        assert _differences(conn) == []
    assert store.revision() == HEAD_REVISION
    store.dispose()


def _shape(store: Store) -> dict[str, Any]:
    """Everything reflection sees of each table, default names of keys and sequences included."""
    with store.read() as conn:
        insp = inspect(conn)
        return {
            table: {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in insp.get_columns(table)
                ],
                "pk": insp.get_pk_constraint(table),
                "indexes": sorted(
                    (i["name"] or "", tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(table)
                ),
                "unique": sorted(
                    (u["name"] or "", tuple(u["column_names"]))
                    for u in insp.get_unique_constraints(table)
                ),
            }
            for table in sorted(insp.get_table_names())
        }


def test_a_store_created_fresh_is_identical_to_one_built_by_the_migrations(
    empty_store: EmptyStores,
):
    fresh = Store(empty_store())
    migrated = _migrated(empty_store())
    assert _shape(fresh) == _shape(migrated)
    fresh.dispose()
    migrated.dispose()


@pytest.mark.parametrize("start", revisions())
def test_every_revision_upgrades_to_the_head(empty_store: EmptyStores, start: str):
    url = empty_store()
    _migrated(url, start).dispose()
    store = Store(url, create=False)
    assert store.ensure_schema(upgrade=True) == start
    with store.read() as conn:
        assert _differences(conn) == []
    assert store.revision() == HEAD_REVISION
    store.dispose()


def test_downgrading_to_the_base_removes_every_table(empty_store: EmptyStores):
    store = _migrated(empty_store())
    cfg = alembic_config()
    with store.schema_transaction() as conn:
        cfg.attributes["connection"] = conn
        from alembic import command

        command.downgrade(cfg, "base")
    with store.read() as conn:
        assert inspect(conn).get_table_names() == ["alembic_version"]
    store.dispose()


def test_processes_opening_a_new_store_together_create_it_once(empty_store: EmptyStores):
    url = empty_store()
    openers = 6
    barrier = threading.Barrier(openers)
    errors: list[BaseException] = []

    def open_store() -> None:
        store = Store(url, create=False)
        try:
            barrier.wait(timeout=30)
            store.ensure_schema()
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.dispose()

    threads = [threading.Thread(target=open_store) for _ in range(openers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    store = Store(url, create=False)
    with store.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    store.dispose()


def test_the_schema_lock_is_held_per_postgresql_schema(postgres_url: str):
    """A store being created in one schema makes openers of that schema wait, not of another."""
    import psycopg

    plain = postgres_url.replace("+psycopg", "")
    names = [f"legato_lock_{secrets.token_hex(6)}" for _ in range(2)]
    with psycopg.connect(plain, autocommit=True) as conn:
        for name in names:
            conn.execute(f'CREATE SCHEMA "{name}"')
    sep = "&" if "?" in postgres_url else "?"
    held, same, other = (
        Store(f"{postgres_url}{sep}options=-csearch_path%3D{name}", create=False)
        for name in (names[0], names[0], names[1])
    )
    try:
        with held.schema_transaction():
            waiting = threading.Thread(target=same.ensure_schema)
            waiting.start()
            other.ensure_schema()  # another schema: not held up
            waiting.join(timeout=1.0)
            assert waiting.is_alive(), "an opener of the locked schema did not wait"
        waiting.join(timeout=30)
        assert not waiting.is_alive() and same.revision() == HEAD_REVISION
    finally:
        for store in (held, same, other):
            store.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            for name in names:
                conn.execute(f'DROP SCHEMA "{name}" CASCADE')


# -- a store older than this Legato ------------------------------------------------------------


@pytest.fixture
def newer_legato(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pretend_a_newer_legato(tmp_path, monkeypatch)


def test_an_older_sqlite_store_is_upgraded_when_opened(tmp_path: Path, request):
    url = f"sqlite:///{tmp_path}/old.db"
    Store(url).dispose()
    request.getfixturevalue("newer_legato")
    store = Store(url)
    assert store.revision() == NEXT
    with store.read() as conn:
        assert "note" in {c["name"] for c in inspect(conn).get_columns("runs")}
    store.dispose()


def test_an_older_postgresql_store_is_upgraded_only_when_asked(pg_store: Store, request):
    url = pg_store.url
    request.getfixturevalue("newer_legato")
    with pytest.raises(StoreError, match="legato db upgrade") as refused:
        Store(url)
    assert f"revision {CURRENT}" in str(refused.value)
    assert f"needs {NEXT}" in str(refused.value)
    store = Store(url, create=False)
    assert store.revision() == CURRENT
    assert store.ensure_schema(upgrade=True) == CURRENT
    assert store.revision() == NEXT
    store.dispose()
    reopened = Store(url)  # opens without complaint now
    assert reopened.revision() == NEXT
    reopened.dispose()


def test_a_store_from_a_newer_legato_is_refused_with_the_reason(store: Store):
    with store.transaction() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    newer = Store(store.url, create=False)
    with pytest.raises(StoreError, match="newer Legato") as refused:
        newer.ensure_schema(upgrade=True)
    assert "upgrade Legato" in str(refused.value)
    newer.dispose()


def test_upgrading_to_run_facets_lets_the_runs_recorded_before_be_found(empty_store: EmptyStores):
    from legato.store.run_search import RunFilter
    from legato.store.runs import list_runs

    long_key = "|".join(f"k{i:04d}" for i in range(100))  # hashed in its facet
    store = _migrated(empty_store(), "0005")
    with store.transaction() as conn:
        for run_id, partition, tags, nodes in [
            ("a", "2025-01-01", '{"team": "data"}', ["orders", "report"]),
            ("b", long_key, "{}", ["orders"]),
            ("c", "", '{"team": "web", "note": "' + "x" * 300 + '"}', []),
        ]:
            conn.execute(
                text(
                    "INSERT INTO runs (run_id, selection, partition, status, created_at, "
                    "executor, tags, config, priority, trigger, from_failure) VALUES "
                    "(:r, '*', :p, 'succeeded', :c, '', :t, '{}', 0, 'manual', 0)"
                ),
                {"r": run_id, "p": partition, "c": float(ord(run_id)), "t": tags},
            )
            for node in nodes:
                conn.execute(
                    text(
                        "INSERT INTO steps (run_id, step_key, node, partition, map_index, kind, "
                        "status, attempt) VALUES (:r, :n, :n, '', -1, 'asset', 'succeeded', 1)"
                    ),
                    {"r": run_id, "n": node},
                )
    with store.schema_transaction() as conn:
        run_migrations(conn)

    def ids(where: RunFilter) -> list[str]:
        return [r.run_id for r in list_runs(store, where)]

    assert ids(RunFilter(asset="orders")) == ["b", "a"]
    assert ids(RunFilter(partition="2025-01-01", tags=("team=data",))) == ["a"]
    assert ids(RunFilter(partition=long_key)) == ["b"]
    assert ids(RunFilter(tags=("note=" + "x" * 300,))) == ["c"]


TOKEN_EXPIRY = "0008"  # the revision that gave API tokens an expiry


def test_tokens_made_before_they_expired_expire_90_days_after_the_upgrade(
    empty_store: EmptyStores,
):
    import time

    store = _migrated(empty_store(), revisions()[revisions().index(TOKEN_EXPIRY) - 1])
    with store.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO web_users (user_id, name, role, password_hash, active, generation, "
                "created_at, updated_at) VALUES (1, 'ci', 'admin', 'hash', 1, 1, 0, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO web_tokens (token_id, token_hash, user_id, label, generation, "
                "created_at) VALUES ('abc123', 'digest', 1, 'ci', 1, 0)"
            )
        )
    started = time.time()
    with store.schema_transaction() as conn:
        run_migrations(conn)
    with store.read() as conn:
        row = conn.execute(text("SELECT expires_at, last_used_at, revoked_at FROM web_tokens"))
        expires, last_used, revoked = row.one()
    assert started + 90 * 86400 <= expires <= time.time() + 90 * 86400
    assert last_used is None and revoked is None
    store.dispose()
