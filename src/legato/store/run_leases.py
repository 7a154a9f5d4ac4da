"""The lease of the process executing a run, and what happens when it lapses: the run's process
renews it while it runs (and stops when it cannot: its writes would be stale), and a run whose
process vanished fails visibly, with its unfinished steps."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import or_, update

from legato.events.status import RunStatus
from legato.events.transitions import next_run_status, next_step_status
from legato.events.types import Event, EventType
from legato.store import schema
from legato.store.engine import Store
from legato.store.event_log import append
from legato.store.runs import get_run, get_steps


def renew_lease(store: Store, run_id: str, launcher: str, until: float) -> bool:
    """Claim or extend the lease of the process executing a run; False if another holds it or
    the run is no longer running (the caller must then stop: its writes would be stale)."""
    r = schema.runs.c
    with store.transaction() as conn:
        result = conn.execute(
            update(schema.runs)
            .where(
                r.run_id == run_id,
                or_(r.launcher.is_(None), r.launcher == launcher),
                r.status.in_(
                    [RunStatus.QUEUED.value, RunStatus.RUNNING.value, RunStatus.CANCELING.value]
                ),
            )
            .values(launcher=launcher, lease_until=until)
        )
    return bool(result.rowcount)


def fail_abandoned(store: Store, run_id: str, reason: str) -> None:
    """Record that a run's process vanished: its unfinished steps and the run fail visibly."""
    now = time.time()
    record = get_run(store, run_id)
    events = []
    for step in get_steps(store, run_id):
        if step.status.finished:
            continue
        status = next_step_status(step.status, EventType.STEP_FAILED)
        data: dict[str, Any] = {
            "error": {"type": "RunAbandoned", "message": reason, "traceback": ""}
        }
        if step.kind == "asset":
            data.update(asset_key=step.node, partition=step.partition)
        events.append(
            Event(
                EventType.STEP_FAILED, run_id, step.step_key, step.attempt, now, status.value, data
            )
        )
    run_status = next_run_status(record.status, EventType.RUN_FAILED)
    events.append(
        Event(
            EventType.RUN_FAILED,
            run_id,
            ts=now,
            status=run_status.value,
            data={"error": {"message": reason}},
        )
    )
    with store.transaction() as conn:
        append(conn, events)
