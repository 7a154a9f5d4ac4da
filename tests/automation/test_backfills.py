"""Driving a backfill: a group's outcome is its run's final status in the store, whoever executes
the run; a run whose process died is failed and re-run from its failure; one driver at a time."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from legato.automation.backfills import drive_backfill, driver_id, run_key
from legato.errors import LegatoError
from legato.events.status import RunStatus
from legato.events.types import Event, EventType
from legato.graph.backfill import RunGroup
from legato.store.backfills import backfill_runs, create_backfill, get_backfill
from legato.store.engine import Store
from legato.store.event_log import append
from legato.store.runs import RunRecord, create_run, get_run

GROUPS = [RunGroup(("days",), ("2025-03-01",)), RunGroup(("month",), ("2025-03",), (0,))]


def _backfill(store: Store, driver: str | None = None) -> str:
    create_backfill(
        store,
        "bf1",
        "days+",
        ["2025-03-01"],
        [g.as_dict() for g in GROUPS],
        max_concurrent=2,
        missing_only=False,
        executor="inprocess",
        driver=driver,
    )
    return "bf1"


def _record(store: Store, key: str, parent: str | None, launcher: str) -> str:
    run_id = f"run-{key.replace(':', '-')}"
    create_run(
        store,
        RunRecord(
            run_id=run_id,
            selection="days",
            status=RunStatus.QUEUED,
            created_at=time.time(),
            idempotency_key=key,
            backfill_id="bf1",
            parent_run_id=parent,
            from_failure=parent is not None,
            launcher=launcher,
            lease_until=time.time() + 30,
        ),
    )
    return run_id


def _move(store: Store, run_id: str, *events: EventType) -> None:
    status = {
        EventType.RUN_STARTED: RunStatus.RUNNING,
        EventType.RUN_SUCCEEDED: RunStatus.SUCCEEDED,
    }
    with store.transaction() as conn:
        append(conn, [Event(e, run_id, ts=time.time(), status=status[e].value) for e in events])


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_group_is_counted_when_its_run_ends_in_the_store_not_when_its_launch_returns(
    store: Store,
) -> None:
    """A run another process executes (a daemon's run queue): its launch returns at once."""
    bid = _backfill(store)

    def launch(group: RunGroup, key: str, parent: str | None) -> RunStatus:
        run_id = _record(store, key, parent, f"{socket.gethostname()}:{os.getpid()}:q/x")
        _move(store, run_id, EventType.RUN_STARTED)
        threading.Timer(0.5, _move, (store, run_id, EventType.RUN_SUCCEEDED)).start()
        return RunStatus.RUNNING

    assert drive_backfill(store, bid, launch) == "completed"
    runs = backfill_runs(store, bid)
    assert [r.status for r in runs] == [RunStatus.SUCCEEDED] * 2


def test_a_run_whose_process_died_is_failed_and_rerun_from_its_failure(store: Store) -> None:
    bid = _backfill(store)
    dead = f"{socket.gethostname()}:{_dead_pid()}:abc123"

    def launch(group: RunGroup, key: str, parent: str | None) -> None:
        if key == run_key(bid, 0, 1):  # its process dies while it runs
            _move(store, _record(store, key, parent, dead), EventType.RUN_STARTED)
            return
        run_id = _record(store, key, parent, driver_id())
        _move(store, run_id, EventType.RUN_STARTED, EventType.RUN_SUCCEEDED)

    assert drive_backfill(store, bid, launch) == "completed"
    runs = {r.idempotency_key: r for r in backfill_runs(store, bid)}
    assert runs[run_key(bid, 0, 1)].status is RunStatus.FAILED
    again = runs[run_key(bid, 0, 2)]
    assert again.status is RunStatus.SUCCEEDED
    assert again.parent_run_id == runs[run_key(bid, 0, 1)].run_id
    assert runs[run_key(bid, 1, 1)].status is RunStatus.SUCCEEDED
    assert len(runs) == 3


def test_a_resumed_backfill_waits_for_a_run_still_executing_elsewhere(store: Store) -> None:
    bid = _backfill(store)
    alive = f"{socket.gethostname()}:{os.getpid()}:other/x"  # a live daemon's run worker
    running = _record(store, run_key(bid, 0, 1), None, alive)
    _move(store, running, EventType.RUN_STARTED)
    threading.Timer(0.5, _move, (store, running, EventType.RUN_SUCCEEDED)).start()
    launched: list[str] = []

    def launch(group: RunGroup, key: str, parent: str | None) -> None:
        launched.append(key)
        _move(store, _record(store, key, parent, driver_id()), EventType.RUN_STARTED)
        _move(store, f"run-{key.replace(':', '-')}", EventType.RUN_SUCCEEDED)

    assert drive_backfill(store, bid, launch) == "completed"
    assert launched == [run_key(bid, 1, 1)]  # the running one was waited for, not repeated
    assert get_run(store, running).status is RunStatus.SUCCEEDED


def test_a_resumed_backfill_reruns_a_run_whose_process_died_once(store: Store) -> None:
    bid = _backfill(store)  # two runs at once: room to launch the same group twice
    dead = f"{socket.gethostname()}:{_dead_pid()}:abc123"
    orphan = _record(store, run_key(bid, 0, 1), None, dead)  # its driver died while it ran
    _move(store, orphan, EventType.RUN_STARTED)
    launched: list[str] = []

    def launch(group: RunGroup, key: str, parent: str | None) -> None:
        launched.append(key)
        _move(store, _record(store, key, parent, driver_id()), EventType.RUN_STARTED)
        _move(store, f"run-{key.replace(':', '-')}", EventType.RUN_SUCCEEDED)

    assert drive_backfill(store, bid, launch) == "completed"
    assert launched == [run_key(bid, 0, 2), run_key(bid, 1, 1)]
    assert get_run(store, orphan).status is RunStatus.FAILED


def test_a_backfill_created_by_its_driver_is_not_driven_by_another(store: Store) -> None:
    me = driver_id()
    bid = _backfill(store, driver=me)
    assert get_backfill(store, bid).driver == me
    with pytest.raises(LegatoError, match="being driven by"):
        drive_backfill(store, bid, lambda group, key, parent: None)
