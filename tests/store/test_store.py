import os
import stat
import threading
import time

import pytest
from sqlalchemy import insert, select

from legato.errors import NotFoundError
from legato.events.status import RunStatus, StepStatus
from legato.events.types import Event, EventType
from legato.store import event_log, schema
from legato.store.assets import history, latest_materializations
from legato.store.engine import Store
from legato.store.logs import read_logs
from legato.store.run_search import RunFilter
from legato.store.runs import (
    NewStep,
    RunRecord,
    create_run,
    get_run,
    get_steps,
    insert_run,
    insert_runs,
    list_runs,
)


def _run(run_id: str, key: str | None = None, created: float | None = None) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        selection="*",
        status=RunStatus.QUEUED,
        created_at=created or time.time(),
        idempotency_key=key,
    )


def test_create_run_is_idempotent_per_key(store: Store):
    first, created = create_run(store, _run("r1", key="tick:1"), [NewStep("a", "a", "asset")])
    again, created_again = create_run(store, _run("r2", key="tick:1"), [NewStep("a", "a", "asset")])
    assert (first, created) == ("r1", True)
    assert (again, created_again) == ("r1", False)
    with store.read() as conn:
        assert conn.execute(select(schema.runs.c.run_id)).scalars().all() == ["r1"]
        assert len(conn.execute(select(schema.steps)).all()) == 1  # nothing half-written for r2


def test_events_update_steps_runs_and_assets_in_one_transaction(store: Store):
    create_run(store, _run("r1"), [NewStep("a", "a", "asset"), NewStep("b", "b", "task")])
    now = time.time()
    events = [
        Event(EventType.RUN_STARTED, "r1", ts=now, status="running"),
        Event(EventType.STEP_STARTED, "r1", "a", 1, now, "running"),
        Event(
            EventType.MATERIALIZED,
            "r1",
            "a",
            1,
            now,
            None,
            {"asset_key": "a", "partition": "", "metadata": {"rows": 3}},
        ),
        Event(EventType.STEP_SUCCEEDED, "r1", "a", 1, now, "succeeded"),
        Event(EventType.STEP_STARTED, "r1", "b", 1, now, "running"),
        Event(EventType.STEP_FAILED, "r1", "b", 1, now, "failed", {"error": {"message": "boom"}}),
        Event(EventType.RUN_FAILED, "r1", ts=now, status="failed"),
    ]
    logs = [
        {
            "run_id": "r1",
            "step_key": "b",
            "ts": now,
            "level": "INFO",
            "stream": "stdout",
            "message": "hello <b>'; DROP TABLE runs;--",
        }
    ]
    with store.transaction() as conn:
        event_log.append(conn, events, logs)
    steps = {s.step_key: s for s in get_steps(store, "r1")}
    assert steps["a"].status is StepStatus.SUCCEEDED and steps["a"].attempt == 1
    assert steps["b"].status is StepStatus.FAILED and steps["b"].error == {"message": "boom"}
    assert get_run(store, "r1").status is RunStatus.FAILED
    [latest] = latest_materializations(store, "a")
    assert latest.run_id == "r1" and latest.metadata == {"rows": 3}
    assert [line.message for line in read_logs(store, "r1", "b")] == [logs[0]["message"]]


def test_latest_materialization_is_replaced_and_history_kept(store: Store):
    for run in ("r1", "r2"):
        create_run(store, _run(run), [NewStep("a", "a", "asset")])
        with store.transaction() as conn:
            event_log.append(
                conn,
                [
                    Event(
                        EventType.MATERIALIZED,
                        run,
                        "a",
                        1,
                        time.time(),
                        None,
                        {"asset_key": "a", "partition": ""},
                    )
                ],
            )
    assert [m.run_id for m in latest_materializations(store)] == ["r2"]
    assert [m.run_id for m in history(store, "a")] == ["r2", "r1"]


def test_list_runs_pages_with_a_cursor(store: Store):
    for i in range(7):
        create_run(store, _run(f"run{i}", created=1000.0 + i), [])
    page1 = list_runs(store, limit=3)
    page2 = list_runs(store, limit=3, before=(page1[-1].created_at, page1[-1].run_id))
    page3 = list_runs(store, limit=3, before=(page2[-1].created_at, page2[-1].run_id))
    assert [r.run_id for r in page1 + page2 + page3] == [f"run{i}" for i in range(6, -1, -1)]
    queued = list_runs(store, RunFilter(statuses=("queued",)), limit=1)
    assert [r.run_id for r in queued] == ["run6"]


def test_get_run_by_unique_prefix_and_clear_errors(store: Store):
    create_run(store, _run("abcdef123"), [])
    create_run(store, _run("abcdef456"), [])
    assert get_run(store, "abcdef1").run_id == "abcdef123"
    with pytest.raises(NotFoundError, match="ambiguous"):
        get_run(store, "abcdef")
    with pytest.raises(NotFoundError, match="legato runs"):
        get_run(store, "%' OR 1=1 --")


def test_snapshots_are_saved_only_when_definitions_change(store: Store):
    from legato.graph.snapshot import DefinitionsSnapshot, read_snapshot
    from legato.store.snapshots import latest_snapshot, save_snapshot

    def one(key: str) -> DefinitionsSnapshot:
        return read_snapshot({"nodes": [{"key": key, "kind": "asset"}]})

    assert latest_snapshot(store) is None
    assert save_snapshot(store, one("a"))
    assert not save_snapshot(store, one("a"))
    assert save_snapshot(store, one("b"))
    assert latest_snapshot(store) == one("b")


def test_request_cancel_cancels_queued_runs_at_once_and_running_ones_via_canceling(store: Store):
    from legato.events.transitions import IllegalTransition
    from legato.store.runs import request_cancel

    create_run(store, _run("queued"))
    assert request_cancel(store, "queued").status is RunStatus.CANCELLED
    create_run(store, _run("running"))
    with store.transaction() as conn:
        event_log.append(conn, [Event(EventType.RUN_STARTED, "running", ts=1.0, status="running")])
    assert request_cancel(store, "running").status is RunStatus.CANCELING
    with pytest.raises(IllegalTransition):
        request_cancel(store, "queued")


@pytest.fixture
def permissive_umask():
    """The common default umask (022), under which files are created world-readable."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_the_sqlite_store_and_its_directory_are_readable_by_their_owner_only(
    tmp_path, permissive_umask
):
    db = tmp_path / "project" / ".legato" / "legato.db"
    store = Store(f"sqlite:///{db}")
    try:
        create_run(store, _run("r1"), [NewStep("a", "a", "asset")])
        with store.read() as conn:  # the WAL and shared-memory files exist while connected
            conn.execute(select(schema.runs.c.run_id)).all()
            files = [db, db.with_name("legato.db-wal"), db.with_name("legato.db-shm")]
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in files}
    finally:
        store.dispose()
    assert modes == {"legato.db": 0o600, "legato.db-wal": 0o600, "legato.db-shm": 0o600}
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "project").stat().st_mode) == 0o700


def test_a_remembered_secret_is_stored_masked_whatever_writes_it(store: Store):
    from legato._internal.secrets import remember
    from legato.store.automation import record_tick

    token = f"canary-{os.urandom(16).hex()}"
    remember(token)
    run = _run("r-secret")
    run = RunRecord(**{**run.__dict__, "config": {"password": token}, "tags": {"t": token}})
    create_run(store, run, [NewStep(f"a{i}", f"a{i}", "asset", f"{token}-{i}") for i in range(3)])
    record_tick(store, "p#0:sensor", "k1", status="failed", reason=f"sensor raised {token}")
    line = {"run_id": "r-secret", "step_key": "a", "ts": 1.0, "level": "INFO", "stream": "stdout"}
    with store.transaction() as conn:  # many rows with RETURNING: one batched statement
        conn.execute(
            insert(schema.logs).returning(schema.logs.c.id),
            [{**line, "message": f"line {i}: {token}"} for i in range(3)],
        )
    with store.read() as conn:
        dump = "\n".join(
            str(row)
            for table in schema.metadata.sorted_tables
            for row in conn.execute(select(table))
        )
    assert token not in dump
    assert "sensor raised ***" in dump and "{'password': '***'}" in dump and "***-2" in dump
    assert "line 2: ***" in dump


def test_a_batch_of_runs_answers_a_key_used_before_with_the_run_it_made(store):
    def queued(run_id: str, key: str) -> RunRecord:
        return RunRecord(run_id, "*", RunStatus.QUEUED, 1.0, idempotency_key=key)

    with store.transaction() as conn:
        assert insert_runs(conn, [queued("r1", "k1"), queued("r2", "k2")]) == ["r1", "r2"]
    with store.transaction() as conn:  # k2 again, between two new keys
        again = [queued("r3", "k3"), queued("r2b", "k2"), queued("r4", "k4")]
        assert insert_runs(conn, again) == ["r3", "r2", "r4"]
    assert {r.run_id for r in list_runs(store, limit=10)} == {"r1", "r2", "r3", "r4"}


def test_threads_of_one_process_write_at_once_on_postgresql_and_in_turn_on_sqlite(store: Store):
    """PostgreSQL takes a process's writers as it takes several processes' (row locks): a thread's
    write commits while another thread's transaction is open. SQLite has one writer at a time: the
    second waits for the first to commit, and is not told "database is locked"."""
    holding, second_done = threading.Event(), threading.Event()
    order: list[str] = []
    failures: list[BaseException] = []

    def second() -> None:
        try:
            holding.wait(10)
            with store.transaction() as conn:
                insert_run(conn, _run("second"))
            order.append("second")
            second_done.set()
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        with store.transaction() as conn:
            insert_run(conn, _run("first"))
            holding.set()
            # On PostgreSQL the second writer commits meanwhile; on SQLite it cannot until this
            # transaction ends, however long it stays open.
            committed_meanwhile = second_done.wait(10 if not store.is_sqlite else 0.5)
            order.append("first")
    finally:
        thread.join(10)
    assert not failures and not thread.is_alive()
    assert committed_meanwhile == (not store.is_sqlite)
    assert order == (["first", "second"] if store.is_sqlite else ["second", "first"])
    with store.read() as conn:
        assert sorted(conn.execute(select(schema.runs.c.run_id)).scalars()) == ["first", "second"]
