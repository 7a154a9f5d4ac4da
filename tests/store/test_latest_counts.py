"""The counts of each asset's keys by status, kept as ``asset_latest`` is written, always equal
``asset_latest`` grouped by asset and status: through every kind of status change, with writers of
one asset at once, and from the rows a store had before the counts were kept."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from migrated import EmptyStores, migrated_store
from sqlalchemy import func, select, text

from legato.events.types import Event, EventType
from legato.store import event_log, schema
from legato.store.engine import Store
from legato.store.latest_counts import status_counts
from legato.store.migrations.runner import run_migrations
from polling import wait_for

ASSETS = ("orders", "revenue")


def _grouped(store: Store, asset: str) -> Counter[str]:
    a = schema.asset_latest.c
    with store.read() as conn:
        rows = conn.execute(
            select(a.status, func.count()).where(a.asset_key == asset).group_by(a.status)
        )
        return Counter({str(status): int(n) for status, n in rows})


def _kept(store: Store, asset: str) -> Counter[str]:
    with store.read() as conn:
        return status_counts(conn, asset)


def _event(kind: EventType, run: str, asset: str, key: str) -> Event:
    status = {
        EventType.STEP_STARTED: "running",
        EventType.STEP_FAILED: "failed",
        EventType.STEP_CANCELLED: "cancelled",
        EventType.STEP_SKIPPED: "skipped",
    }.get(kind)
    data = {"asset_key": asset, "partition": key}
    return Event(kind, run, f"{asset}[{key}]", 1, 1.0, status, data)


def _append(store: Store, events: list[Event]) -> None:
    with store.transaction() as conn:
        event_log.append(conn, events)


def _assert_kept_equals_grouped(store: Store) -> None:
    for asset in ASSETS:
        assert _kept(store, asset) == _grouped(store, asset), asset


def test_counts_follow_every_change_of_a_key_status(store: Store):
    started, made, failed = EventType.STEP_STARTED, EventType.MATERIALIZED, EventType.STEP_FAILED
    cancelled, skipped = EventType.STEP_CANCELLED, EventType.STEP_SKIPPED
    batches = [
        [_event(started, "r1", "orders", k) for k in ("a", "b", "c", "d")],
        [_event(made, "r1", "orders", "a"), _event(failed, "r1", "orders", "b")],
        [_event(cancelled, "r1", "orders", "c")],  # never materialized: the key is missing again
        [_event(started, "r2", "orders", "a"), _event(started, "r2", "revenue", "")],
        [_event(cancelled, "r2", "orders", "a")],  # back to its materialization
        [_event(skipped, "r9", "orders", "d")],  # another run's attempt: nothing changes
        [  # one batch, two assets, a key changing twice in it
            _event(started, "r3", "orders", "b"),
            _event(made, "r3", "orders", "b"),
            _event(failed, "r3", "revenue", ""),
            _event(made, "r3", "orders", "e"),
        ],
        # releases apply after the batch's attempts, whatever their order: back to materialized
        [_event(cancelled, "r4", "orders", "e"), _event(started, "r4", "orders", "e")],
    ]
    for batch in batches:
        _append(store, batch)
        _assert_kept_equals_grouped(store)
    assert sum(_kept(store, "orders").values()) == 4  # a, b, d, e


@pytest.fixture
def second_writer(store: Store) -> Iterator[list[threading.Thread]]:
    threads: list[threading.Thread] = []
    yield threads
    for thread in threads:
        thread.join(timeout=30)


def test_a_writer_of_the_same_asset_waits_and_counts_what_the_first_committed(
    store: Store, second_writer: list[threading.Thread]
):
    """The first writer makes a key in progress; the second, started before the first commits,
    materializes it: the key counts once, as materialized."""
    first = store.engine.connect()
    try:
        with first.begin():
            event_log.append(first, [_event(EventType.STEP_STARTED, "r1", "orders", "a")])
            writer = threading.Thread(
                target=_append, args=(store, [_event(EventType.MATERIALIZED, "r2", "orders", "a")])
            )
            second_writer.append(writer)
            writer.start()
            if not store.is_sqlite:  # SQLite's second writer cannot begin until the first ends
                pid = first.execute(text("SELECT pg_backend_pid()")).scalar_one()
                wait_for(lambda: _blocked_by(store, pid), what="the second writer to wait")
        writer.join(timeout=30)
    finally:
        first.close()
    assert not writer.is_alive()
    _assert_kept_equals_grouped(store)
    assert _kept(store, "orders") == Counter(materialized=1)


def _blocked_by(store: Store, pid: int) -> bool:
    """Whether a session waits for a lock that the session ``pid`` holds."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))")
    with store.engine.connect() as conn:
        return bool(conn.execute(query, {"pid": pid}).scalar_one())


def test_counts_stay_exact_with_writers_of_one_asset_at_once(
    store: Store, second_writer: list[threading.Thread]
):
    keys = [f"k{i}" for i in range(12)]
    kinds = [EventType.STEP_STARTED, EventType.MATERIALIZED, EventType.STEP_FAILED]
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def write(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        try:
            for n in range(25):
                batch = [
                    _event(rng.choice(kinds), f"r{seed}-{n}", rng.choice(ASSETS), key)
                    for key in rng.sample(keys, 3)
                ]
                _append(store, batch)
        except BaseException as exc:  # reported below: a thread's failure is otherwise lost
            errors.append(exc)

    second_writer.extend(threading.Thread(target=write, args=(seed,)) for seed in range(4))
    for thread in second_writer:
        thread.start()
    for thread in second_writer:
        thread.join(timeout=120)
    assert errors == []
    _assert_kept_equals_grouped(store)


def test_upgrading_counts_the_keys_recorded_before(empty_store: EmptyStores):
    store = migrated_store(empty_store(), "0010")
    rows = [
        {"asset": asset, "key": f"k{i}", "status": status}
        for asset, n in (("orders", 7), ("revenue", 3))
        for i, status in zip(range(n), ["materialized", "failed", "in_progress"] * 3, strict=False)
    ]
    with store.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO asset_latest (asset_key, partition, status, run_id, step_key, ts, "
                "metadata) VALUES (:asset, :key, :status, 'r', 's', 0, '{}')"
            ),
            rows,
        )
    with store.schema_transaction() as conn:
        run_migrations(conn)
    _assert_kept_equals_grouped(store)
    store.dispose()
