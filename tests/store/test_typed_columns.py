"""JSON documents, booleans and foreign keys in the open: what a store recorded before revision
0010 (JSON as text, flags as 0/1, no keys) reads the same after the upgrade, and the new schema
enforces what it declares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from migrated import EmptyStores, migrated_store
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from legato.definitions.trigger_specs import CronSpec
from legato.store import schema
from legato.store.automation import list_triggers
from legato.store.backfills import get_backfill
from legato.store.engine import Store
from legato.store.runs import get_events, get_run, get_steps
from legato.store.schema_web import web_sessions, web_users

BEFORE = "0009"


def _old_rows(store: Store) -> None:
    """Rows as revision 0009 wrote them: JSON text (one with a NUL escape, one empty), 0/1 flags,
    and references to rows that do not exist."""
    statements = [
        "INSERT INTO backfills (backfill_id, selection, keys, status, created_at, updated_at, "
        "max_concurrent, missing_only, plan, executor, tags) VALUES ('bf1', 'a', "
        '\'["2025-01-01","2025-01-02"]\', \'requested\', 1, 1, 2, 1, \'{"selection":"a"}\', '
        "'process', '{\"team\":\"data\"}')",
        "INSERT INTO runs (run_id, selection, partition, status, created_at, executor, tags, "
        "config, error, priority, trigger, from_failure, backfill_id) VALUES ('r1', 'a', "
        "'2025-01-01', 'failed', 1, 'process', '{\"team\":\"data\"}', '{\"n\":3}', "
        '\'{"type":"ValueError","message":"bad\\u0000byte"}\', 0, \'manual\', 1, \'bf1\')',
        "INSERT INTO runs (run_id, selection, partition, status, created_at, executor, tags, "
        "config, error, priority, trigger, from_failure, backfill_id) VALUES ('r2', 'a', '', "
        "'succeeded', 2, 'process', '{}', '{}', '', 0, 'manual', 0, 'no-such-backfill')",
        "INSERT INTO steps (run_id, step_key, node, partition, map_index, kind, status, "
        "attempt, error) VALUES ('r1', 'a', 'a', '', -1, 'asset', 'failed', 1, "
        '\'{"type":"ValueError","message":"a \\\\u0000 literal"}\')',
        "INSERT INTO events (run_id, step_key, type, ts, attempt, data) VALUES "
        "('r1', 'a', 'step_failed', 1, 1, '{\"error\":{\"message\":\"x\"},\"n\":[1,2]}')",
        "INSERT INTO triggers (trigger_id, pipeline, kind, spec, enabled, next_due, updated_at)"
        " VALUES ('p#0:cron', 'p', 'cron', '{\"kind\":\"cron\",\"expr\":\"0 * * * *\"}',"
        " 0, 0, 0)",
        "INSERT INTO web_users (user_id, name, role, password_hash, active, generation, "
        "created_at, updated_at) VALUES (1, 'ann', 'admin', 'hash', 1, 1, 0, 0)",
        "INSERT INTO web_sessions (session_hash, user_id, generation, created_at, expires_at) "
        "VALUES ('s-of-ann', 1, 1, 0, 9e9)",
        "INSERT INTO web_sessions (session_hash, user_id, generation, created_at, expires_at) "
        "VALUES ('s-of-nobody', 42, 1, 0, 9e9)",
    ]
    with store.transaction() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


@pytest.fixture
def upgraded(empty_store: EmptyStores) -> Iterator[Store]:
    url = empty_store()
    old = migrated_store(url, BEFORE)
    _old_rows(old)
    old.dispose()
    store = Store(url, create=False)
    assert store.ensure_schema(upgrade=True) == BEFORE
    try:
        yield store
    finally:
        store.dispose()


def test_json_documents_and_flags_read_the_same_after_the_upgrade(upgraded: Store) -> None:
    run = get_run(upgraded, "r1")
    assert run.tags == {"team": "data"} and run.config == {"n": 3}
    assert run.from_failure is True and run.backfill_id == "bf1"
    # PostgreSQL's JSONB refuses NUL in strings: it became U+FFFD there; SQLite kept it.
    assert run.error is not None and run.error["message"] in ("bad\x00byte", "bad\ufffdbyte")
    # An escaped backslash before "u0000" is not a NUL: left as it was on both backends.
    assert get_steps(upgraded, "r1")[0].error == {
        "type": "ValueError",
        "message": "a \\u0000 literal",
    }
    other = get_run(upgraded, "r2")
    assert other.error is None and other.from_failure is False and other.tags == {}
    assert other.backfill_id is None  # pointed at no backfill: cleared for the foreign key
    assert get_events(upgraded, "r1")[0]["data"] == {"error": {"message": "x"}, "n": [1, 2]}
    backfill = get_backfill(upgraded, "bf1")
    assert backfill.keys == ("2025-01-01", "2025-01-02") and backfill.missing_only is True
    assert backfill.request == {"selection": "a"} and backfill.tags == {"team": "data"}
    (trigger,) = list_triggers(upgraded)
    assert trigger.spec == CronSpec(expr="0 * * * *") and trigger.enabled is False
    with upgraded.read() as conn:
        sessions = conn.execute(select(web_sessions.c.session_hash)).scalars().all()
        active = conn.execute(select(web_users.c.active)).scalar_one()
    assert sessions == ["s-of-ann"]  # the session of no user was deleted for the foreign key
    assert active is True


def test_postgresql_stores_json_as_jsonb_and_flags_as_booleans(upgraded: Store) -> None:
    if upgraded.is_sqlite:
        pytest.skip("SQLite keeps JSON as text: it has no JSON column type")
    with upgraded.read() as conn:
        columns = {c["name"]: str(c["type"]) for c in inspect(conn).get_columns("runs")}
        found = conn.execute(
            text('SELECT run_id FROM runs WHERE tags @> \'{"team": "data"}\'')
        ).scalars()
        assert list(found) == ["r1"]  # a JSONB containment query, served by the server
    assert columns["tags"] == "JSONB" and columns["error"] == "JSONB"
    assert columns["from_failure"] == "BOOLEAN"


def test_a_user_s_sessions_go_with_the_user_and_a_session_needs_a_user(upgraded: Store) -> None:
    with upgraded.transaction() as conn:
        conn.execute(web_users.delete().where(web_users.c.user_id == 1))
    with upgraded.read() as conn:
        assert conn.execute(select(web_sessions)).all() == []
    with pytest.raises(IntegrityError), upgraded.transaction() as conn:
        conn.execute(
            insert(web_sessions).values(
                session_hash="s2", user_id=7, generation=1, created_at=0, expires_at=1
            )
        )


def test_a_run_s_backfill_must_exist(upgraded: Store) -> None:
    with pytest.raises(IntegrityError), upgraded.transaction() as conn:
        conn.execute(
            insert(schema.runs).values(
                run_id="r3", selection="a", status="queued", created_at=3, backfill_id="nope"
            )
        )
