"""Waiting for the store to change: a run that finishes wakes a waiter at once, by a notification
on PostgreSQL and by SQLite's data version, instead of a poll of the run."""

from __future__ import annotations

import threading
import time

from legato.events.status import RunStatus
from legato.events.types import Event, EventType
from legato.store.engine import Store
from legato.store.event_log import append
from legato.store.notify import RUN_FINISHED_CHANNEL, Changes
from legato.store.runs import RunRecord, create_run


def test_a_run_finishing_wakes_a_waiter(store: Store) -> None:
    create_run(
        store,
        RunRecord(run_id="r1", selection="a", status=RunStatus.RUNNING, created_at=time.time()),
    )
    changes = Changes(store, RUN_FINISHED_CHANNEL)
    try:
        changes.wait(0)  # the first look at SQLite's data version counts as a change
        finish = threading.Timer(
            0.2, lambda: _finish(store, "r1")
        )  # while the waiter waits, not before
        finish.start()
        woken = changes.wait(30)
        finish.join()
        assert woken
    finally:
        changes.close()


def _finish(store: Store, run_id: str) -> None:
    with store.transaction() as conn:
        append(conn, [Event(EventType.RUN_SUCCEEDED, run_id, ts=time.time(), status="succeeded")])
