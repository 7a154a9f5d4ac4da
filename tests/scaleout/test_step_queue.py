"""The step queue on PostgreSQL: exclusive claims, fenced writes, expiry, and no unpickling."""

from __future__ import annotations

import collections
import os
import pickle
import threading

import pytest

from legato.definitions.keys import StepKey
from legato.definitions.project import Project
from legato.errors import StoreError
from legato.execution.executors._remote_codec import encode
from legato.execution.executors.base import ExecutorSetup
from legato.execution.executors.remote import RemoteExecutor
from legato.execution.remote_worker import Worker
from legato.execution.spec import StepOutcome, StepSpec
from legato.store import step_queue as sq


def _items(n: int, queue: str = "q", run: str = "run1") -> list[sq.NewItem]:
    return [
        sq.NewItem(run, f"s{i}", 1, queue, encode(StepSpec(run, StepKey(f"s{i}"), 1)))
        for i in range(n)
    ]


def test_racing_workers_claim_every_row_exactly_once(pg_store):
    sq.enqueue(pg_store, _items(200))
    claims: list[tuple[str, int]] = []

    def worker(name: str) -> None:
        while got := sq.claim(pg_store, "q", name, 7, lease=30):
            claims.extend((name, c.id) for c in got)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    per_row = collections.Counter(row for _, row in claims)
    assert len(per_row) == 200 and set(per_row.values()) == {1}
    assert len({name for name, _ in claims}) > 1  # the work was really shared


def test_log_lines_of_a_held_row_are_kept_and_a_stale_claim_s_are_refused(pg_store):
    first, second = sq.enqueue(pg_store, _items(2))
    held = {c.id: c for c in sq.claim(pg_store, "q", "w1", 2, lease=30)}
    stale = held[second].epoch - 1  # an earlier claim of the row
    chunks = [(first, held[first].epoch, '["one"]'), (second, stale, '["two"]')]
    assert sq.add_log_chunks(pg_store, chunks) == {second}
    _, collected = sq.collect(pg_store, [first, second], 0)
    assert [(item, lines) for _, item, lines in collected] == [(first, '["one"]')]


def test_a_lost_lease_fences_out_the_old_workers_writes(pg_store):
    (item,) = sq.enqueue(pg_store, _items(1))
    (claimed,) = sq.claim(pg_store, "q", "w1", 1, lease=0.0)
    assert sq.expire(pg_store, [item]) == [(item, "w1")]
    outcome = encode(StepOutcome(StepKey("s0"), 1, True))
    assert sq.finish(pg_store, [(item, claimed.epoch, "run1", outcome)]) == set()
    assert sq.add_log_chunks(pg_store, [(item, claimed.epoch, "[]")]) == {item}
    assert sq.renew(pg_store, [(item, claimed.epoch)], lease=30) == set()
    finished, _ = sq.collect(pg_store, [item], 0)
    assert [(f.status, f.outcome) for f in finished] == [(sq.LOST, None)]


def test_a_cancelled_row_rejects_its_outcome_and_cannot_be_claimed(pg_store):
    first, second = sq.enqueue(pg_store, _items(2))
    (claimed,) = sq.claim(pg_store, "q", "w1", 1, lease=30)
    sq.cancel(pg_store, [first, second])
    outcome = encode(StepOutcome(StepKey("s0"), 1, True))
    assert sq.finish(pg_store, [(claimed.id, claimed.epoch, "run1", outcome)]) == set()
    assert sq.claim(pg_store, "q", "w2", 5, lease=30) == []


def test_queues_route_rows_to_their_own_workers(pg_store):
    sq.enqueue(pg_store, _items(2, "gpu", "run1") + _items(3, "cpu", "run2"))
    assert len(sq.claim(pg_store, "gpu", "w", 10, lease=30)) == 2
    assert len(sq.claim(pg_store, "cpu", "w", 10, lease=30)) == 3


class _Canary:
    def __reduce__(self):
        return (os.system, ("touch /tmp/legato-s09-canary-fired",))


def test_a_pickle_in_the_outcome_column_is_never_unpickled(pg_store):
    """RELIABILITY S-09: a row holding a __reduce__ payload yields a failed outcome, not code."""
    canary = "/tmp/legato-s09-canary-fired"
    if os.path.exists(canary):
        os.remove(canary)
    executor = RemoteExecutor(pg_store, "q", lease_check=60)
    executor.start(ExecutorSetup(Project.of([]), None))
    try:
        executor.submit(StepSpec("run1", StepKey("s0"), 1))
        executor.poll(0)
        (claimed,) = sq.claim(pg_store, "q", "w1", 1, lease=30)
        payload = pickle.dumps(_Canary(), protocol=0).decode()  # text: it fits the column
        assert sq.finish(pg_store, [(claimed.id, claimed.epoch, "run1", payload)]) == {claimed.id}
        (outcome,) = executor.poll(5)
    finally:
        executor.shutdown()
    assert isinstance(outcome, StepOutcome) and not outcome.ok
    assert outcome.error is not None and "malformed step outcome" in outcome.error.message
    assert not os.path.exists(canary)


def test_remote_execution_refuses_sqlite_with_the_fix(sqlite_store, tmp_path):
    with pytest.raises(StoreError, match=r"needs a PostgreSQL store.*LEGATO_DATABASE_URL"):
        RemoteExecutor(sqlite_store)
    with pytest.raises(StoreError, match="legato worker needs a PostgreSQL store"):
        Worker(sqlite_store, Project.of([]), tmp_path)
