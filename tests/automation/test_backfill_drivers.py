"""The daemon's backfill drivers: a backfill nobody drives is taken over; one created unplanned
(through the API) is planned by the code location first, or fails saying why; a driver settles a
run as soon as it finishes, woken by the store, whoever executes it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import msgspec
import pytest
from sqlalchemy import update

import legato as lg
from legato.automation.backfill_drivers import BackfillDrivers
from legato.automation.code import InProcessCode
from legato.definitions.project import Project
from legato.events.status import RunStatus
from legato.events.types import Event, EventType
from legato.store.backfills import (
    PlanRequest,
    backfill_runs,
    create_backfill,
    get_backfill,
    record_plan,
    unfinished_backfills,
)
from legato.store.engine import Store
from legato.store.event_log import append
from legato.store.schema_partitions import backfills
from polling import poller

DAYS = lg.DailyPartitions(start="2025-01-01", end="2025-02-01")
wait_for = poller(timeout=30.0)


@lg.asset(partitions=DAYS)
def readings() -> int:
    return 1


@lg.asset(partitions=DAYS)
def cleaned(readings: int) -> int:
    return readings


@pytest.fixture
def drivers(store: Store) -> Iterator[BackfillDrivers]:
    stopping = threading.Event()
    found = BackfillDrivers(
        store, 30.0, stopping, InProcessCode(Project.of([readings, cleaned]), store)
    )
    yield found
    stopping.set()
    found.join(time.monotonic() + 10)


def _unplanned(store: Store, first: str, last: str) -> str:
    record = create_backfill(
        store,
        f"bf-{first}",
        "readings+",
        [],
        None,
        request=PlanRequest(range=(first, last)),
        max_concurrent=3,
        missing_only=False,
        executor="inprocess",
    )
    return record.backfill_id


def _execute_queued(store: Store, backfill_id: str) -> int:
    """Finish the backfill's queued runs, as a run queue would; how many there were."""
    queued = [r for r in backfill_runs(store, backfill_id) if r.status is RunStatus.QUEUED]
    for run in queued:
        with store.transaction() as conn:
            append(
                conn,
                [
                    Event(EventType.RUN_STARTED, run.run_id, ts=time.time(), status="running"),
                    Event(EventType.RUN_SUCCEEDED, run.run_id, ts=time.time(), status="succeeded"),
                ],
            )
    return len(queued)


def test_a_backfill_created_unplanned_is_planned_then_driven_a_run_as_each_one_ends(
    store: Store, drivers: BackfillDrivers
) -> None:
    backfill_id = _unplanned(store, "2025-01-10", "2025-01-19")
    assert [b.backfill_id for b in unfinished_backfills(store)] == [backfill_id]
    drivers.look()
    executed = 0

    def done() -> bool:
        nonlocal executed
        executed += _execute_queued(store, backfill_id)
        return get_backfill(store, backfill_id).status == "completed"

    wait_for(done, what="the backfill to complete")
    record = get_backfill(store, backfill_id)
    assert record.planned and len(record.groups) == 10 and executed == 10
    assert record.keys[0] == "2025-01-10" and len(record.keys) == 10
    assert {tuple(g["nodes"]) for g in record.groups} == {("readings", "cleaned")}
    assert not record_plan(store, backfill_id, [], [])  # planned once, never again
    assert unfinished_backfills(store) == []


def test_a_backfill_whose_request_does_not_fit_the_code_fails_saying_why(
    store: Store, drivers: BackfillDrivers
) -> None:
    backfill_id = _unplanned(store, "2025-01-30", "2025-02-03")  # past the space's end
    drivers.look()
    wait_for(lambda: get_backfill(store, backfill_id).status == "failed", what="a failure")
    record = get_backfill(store, backfill_id)
    assert record.error is not None and record.error.startswith("could not be planned:")
    assert "2025-02-03" in record.error and not record.planned
    assert backfill_runs(store, backfill_id) == []


def test_a_backfill_whose_recorded_request_is_malformed_fails_naming_it(
    store: Store, drivers: BackfillDrivers
) -> None:
    backfill_id = _unplanned(store, "2025-01-10", "2025-01-12")
    with store.transaction() as conn:  # as a hand edit, or another version, could leave it
        conn.execute(
            update(backfills)
            .where(backfills.c.backfill_id == backfill_id)
            .values(plan={"range": ["2025-01-10"]})
        )
    drivers.look()
    wait_for(lambda: get_backfill(store, backfill_id).status == "failed", what="a failure")
    record = get_backfill(store, backfill_id)
    assert record.error is not None and record.error.startswith("could not be planned:")
    assert f"backfill {backfill_id} has a malformed request to plan" in record.error
    assert "$.range" in record.error and backfill_runs(store, backfill_id) == []


class Scale(msgspec.Struct):
    factor: int


@lg.asset(partitions=DAYS)
def scaled(context, config: Scale) -> int:
    return config.factor


def test_a_backfill_s_config_goes_to_each_run_and_one_that_no_longer_fits_fails_planning(
    store: Store,
) -> None:
    stopping = threading.Event()
    drivers = BackfillDrivers(store, 30.0, stopping, InProcessCode(Project.of([scaled]), store))
    try:
        fits, stale = ({"scaled": {"factor": 3}}, {"scaled": {"factr": 3}})
        ids = []
        for n, config in enumerate([fits, stale]):
            record = create_backfill(
                store, f"bf-config-{n}", "scaled", [], None,
                request=PlanRequest(range=("2025-01-10", "2025-01-11")),
                max_concurrent=2, missing_only=False, executor="inprocess", config=config,
            )  # fmt: skip
            ids.append(record.backfill_id)
        drivers.look()
        queued = lambda: [r for r in backfill_runs(store, ids[0]) if r.status is RunStatus.QUEUED]  # noqa: E731
        runs = wait_for(lambda: len(queued()) == 2 and queued(), what="the backfill's runs")
        assert [r.config for r in runs] == [fits, fits]
        wait_for(lambda: get_backfill(store, ids[1]).status == "failed", what="a failure")
        error = get_backfill(store, ids[1]).error or ""
        assert error.startswith("could not be planned:") and "scaled.factr" in error, error
        assert backfill_runs(store, ids[1]) == []
    finally:
        stopping.set()
        drivers.join(time.monotonic() + 10)
