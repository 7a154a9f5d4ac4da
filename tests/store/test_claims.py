"""Claiming queued runs: priorities, FIFO, and limits per pipeline and per tag."""

import time

from legato.events.status import RunStatus
from legato.store.claims import QueueLimits, active_runs, claim_queued
from legato.store.engine import Store
from legato.store.runs import RunRecord, create_run


def _queue(
    store: Store,
    run_id: str,
    pipeline: str,
    *,
    priority: int = 0,
    tags: dict[str, str] | None = None,
    at: float = 0.0,
) -> None:
    create_run(
        store,
        RunRecord(
            run_id=run_id,
            selection="*",
            status=RunStatus.QUEUED,
            created_at=1000.0 + at,
            pipeline=pipeline,
            priority=priority,
            tags=tags or {},
        ),
    )


def test_priority_first_then_fifo_within_limits_per_pipeline_and_tag(store: Store):
    _queue(store, "a1", "a", at=1)
    _queue(store, "a2", "a", at=2)
    _queue(store, "b1", "b", tags={"team": "x"}, at=3)
    _queue(store, "b2", "b", tags={"team": "x"}, at=4)
    _queue(store, "c1", "c", at=5)
    _queue(store, "urgent", "c", priority=10, at=9)
    limits = QueueLimits(total=4, pipelines={"a": 1}, tags={"team=x": 1})
    claimed = claim_queued(store, "d1", limits=limits, lease=30, now=time.time())
    assert [r.run_id for r in claimed] == ["urgent", "a1", "b1", "c1"]
    assert active_runs(store) == 4
    assert claim_queued(store, "d1", limits=limits, lease=30, now=time.time()) == []


def test_two_claimers_never_take_the_same_run(store: Store):
    for i in range(10):
        _queue(store, f"r{i}", "p", at=i)
    first = claim_queued(store, "d1", limits=QueueLimits(total=6), lease=30, now=time.time())
    second = claim_queued(store, "d2", limits=QueueLimits(total=10), lease=30, now=time.time())
    assert len(first) == 6 and len(second) == 4
    assert not {r.run_id for r in first} & {r.run_id for r in second}
