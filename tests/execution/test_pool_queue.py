"""The process pool takes steps beyond its workers and starts each as a worker frees: the
engine records their starts and outcomes in batches, no more steps execute at once than there
are workers, and a queued step's timeout counts from its own start."""

import threading
import time
from collections import deque

import legato as lg
from legato.definitions.project import Project
from legato.events.status import RunStatus, StepStatus
from legato.events.types import EventType
from legato.execution.api import launch_run
from legato.execution.executors.inprocess import InProcessExecutor
from legato.execution.executors.process_pool import QUEUE_PER_WORKER
from legato.graph.build import build_graph
from legato.store.engine import Store
from legato.store.runs import get_steps, list_runs
from polling import wait_for


def test_the_pool_takes_more_steps_than_it_has_workers_and_runs_as_many(tmp_path):
    started, gate = tmp_path / "started", tmp_path / "go"
    started.mkdir()

    @lg.task
    def items() -> list[int]:
        return list(range(6))

    @lg.task(map_over="items")
    def work(items: int) -> int:
        (started / str(items)).touch()
        deadline = time.monotonic() + 60
        while not gate.exists() and time.monotonic() < deadline:  # held until the test says
            time.sleep(0.01)
        return items * 10

    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    result: dict[str, object] = {}

    def run() -> None:
        result["run"] = lg.materialize(
            [items, work],
            executor="process",
            store=store,
            storage=tmp_path / "s",
            max_concurrency=2,
        )

    thread = threading.Thread(target=run)
    thread.start()
    try:
        run_id = wait_for(lambda: [r.run_id for r in list_runs(store, limit=1)])[0]

        def handed() -> list[str]:
            return [
                s.step_key
                for s in get_steps(store, run_id)
                if s.node == "work" and s.map_index >= 0 and s.status is StepStatus.RUNNING
            ]

        assert len(wait_for(lambda: len(handed()) == 6 and handed(), timeout=60)) == 6
        wait_for(lambda: len(list(started.iterdir())) == 2, timeout=60, what="two started")
        assert len(list(started.iterdir())) == 2  # the others wait for a worker
    finally:
        gate.touch()
        thread.join(60)
        store.dispose()
    assert result["run"].output("work") == [0, 10, 20, 30, 40, 50]


def test_a_queued_step_s_timeout_counts_from_its_own_start(tmp_path):
    """One worker: the quick steps wait behind a slow one longer than their timeout, and
    still succeed."""

    @lg.task
    def slow() -> int:
        time.sleep(1.5)
        return 1

    @lg.task
    def items() -> list[int]:
        return [1, 2, 3]

    @lg.task(map_over="items", timeout=1.0)
    def quick(items: int) -> int:
        return items

    result = lg.materialize(
        [slow, items, quick], executor="process", storage=tmp_path / "s", max_concurrency=1
    )
    assert result.status is RunStatus.SUCCEEDED and result.output("quick") == [1, 2, 3]


class _OneSlotQueue(InProcessExecutor):
    """An executor with one slot and a queue, as a one-worker pool: each poll finishes the step
    in its slot, which takes the next from the queue."""

    capacity = 1
    queue_depth = QUEUE_PER_WORKER

    def poll(self, timeout):
        if not self._queue:
            return []
        rest = self._queue
        self._queue = deque([rest.popleft()])
        try:
            return super().poll(timeout)
        finally:
            self._queue = rest


def test_outcomes_are_recorded_in_batches_while_the_queue_keeps_the_slots_busy(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("legato.execution.engine.BATCH_WINDOW", 60.0)  # no timing in this test
    steps = [lg.task(key=f"t{i}")(lambda: 1) for i in range(12)]
    project = Project.of(steps)
    batches: list[int] = []
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    result = launch_run(
        project,
        build_graph(project),
        "*",
        store=store,
        storage_root=tmp_path / "s",
        executor=_OneSlotQueue(),
        on_events=lambda events: batches.append(
            sum(e.type is EventType.STEP_SUCCEEDED for e in events)
        ),
    )
    store.dispose()
    assert result.status is RunStatus.SUCCEEDED
    # The slot and its queue hold 1 + 4 steps. While at least half the queue (2) still waits
    # after an outcome, the loop gathers the next one before it commits: three outcomes a
    # commit, then one at a time once the queue runs dry, instead of one per commit throughout.
    assert [b for b in batches if b] == [3, 3, 3, 1, 1, 1]
