"""The steps table follows a step's events in the order they happened, also within one batch."""

import time

from legato.events.status import RunStatus, StepStatus
from legato.events.types import Event, EventType
from legato.store import event_log
from legato.store.engine import Store
from legato.store.runs import NewStep, RunRecord, create_run, get_steps


def test_a_retry_and_the_next_attempt_in_one_batch_leave_the_step_running_that_attempt(
    store: Store,
):
    run = RunRecord(run_id="r1", selection="*", status=RunStatus.QUEUED, created_at=time.time())
    create_run(store, run, [NewStep("a", "a", "asset")])
    now = time.time()
    error = {"message": "the worker process was killed by signal SIGKILL"}
    with store.transaction() as conn:
        event_log.append(conn, [Event(EventType.STEP_STARTED, "r1", "a", 1, now, "running")])
    with store.transaction() as conn:  # the engine flushes both together when the delay is 0
        event_log.append(
            conn,
            [
                Event(EventType.STEP_RETRY, "r1", "a", 1, now, "retrying", {"error": error}),
                Event(EventType.STEP_STARTED, "r1", "a", 2, now, "running"),
            ],
        )
    [step] = get_steps(store, "r1")
    assert (step.status, step.attempt) == (StepStatus.RUNNING, 2)
    with store.transaction() as conn:
        event_log.append(conn, [Event(EventType.STEP_SUCCEEDED, "r1", "a", 2, now, "succeeded")])
    [step] = get_steps(store, "r1")
    assert (step.status, step.attempt, step.error) == (StepStatus.SUCCEEDED, 2, None)


def test_an_end_event_that_says_when_its_attempt_began_sets_the_steps_start(store: Store):
    run = RunRecord(run_id="r1", selection="*", status=RunStatus.QUEUED, created_at=time.time())
    create_run(store, run, [NewStep("a", "a", "task"), NewStep("b", "b", "task")])
    with store.transaction() as conn:  # both handed over at 100; they ran one after the other
        event_log.append(
            conn,
            [
                Event(EventType.STEP_STARTED, "r1", "a", 1, 100.0, "running"),
                Event(EventType.STEP_STARTED, "r1", "b", 1, 100.0, "running"),
            ],
        )
    with store.transaction() as conn:
        event_log.append(
            conn,
            [
                Event(EventType.STEP_SUCCEEDED, "r1", "a", 1, 100.2, "succeeded"),
                Event(
                    EventType.STEP_SUCCEEDED,
                    "r1",
                    "b",
                    1,
                    100.4,
                    "succeeded",
                    {"started_at": 100.2},
                ),
            ],
        )
    a, b = sorted(get_steps(store, "r1"), key=lambda s: s.step_key)
    assert (a.started_at, a.ended_at) == (100.0, 100.2)
    assert (b.started_at, b.ended_at) == (100.2, 100.4)
