"""Remote executor: step attempts go through a PostgreSQL queue to ``legato worker`` processes.

The engine's side of the step queue. ``submit`` buffers specs and ``poll`` inserts them (one
transaction per batch, as JSON), then returns outcomes and streamed log lines of finished and
running attempts, waking on ``NOTIFY``. Attempts whose worker stopped renewing its lease are marked
lost and reported failed (``WorkerLost``), so the engine retries them per policy as new rows; the
old row stays fenced. Nothing read back from the queue is unpickled (RELIABILITY S-09).

Steps are routed to queues by ``routes`` (node key → queue), else by the step's ``queue`` tag,
else to the executor's default queue.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from legato.definitions.keys import StepKey
from legato.definitions.step import StepDef
from legato.errors import ConfigError
from legato.execution.executors._remote_codec import (
    MalformedMessage,
    decode_lines,
    decode_outcome,
    encode,
)
from legato.execution.executors.base import ExecutorOptions, ExecutorSetup, Message, WorkerLost
from legato.execution.remote_worker import check_queue
from legato.execution.spec import LogChunk, StepOutcome, StepSpec
from legato.execution.step import describe_error
from legato.store import step_queue as sq
from legato.store.engine import Store
from legato.store.notify import Listener, require_postgres

QUEUE_TAG = "queue"


@dataclass(frozen=True)
class _Item:
    step: StepKey
    attempt: int


class RemoteExecutor:
    """Sends steps to workers through the store.

    Args:
        store: the PostgreSQL store the workers claim from (SQLite is refused).
        queue: the default queue.
        capacity: most attempts queued or running at once for this run.
        routes: node key → queue, for steps that must run on particular workers.
        lease_check: seconds between looks for expired leases.
    """

    name = "remote"

    def __init__(
        self,
        store: Store,
        queue: str = "default",
        *,
        capacity: int = 64,
        routes: Mapping[str, str] | None = None,
        lease_check: float = 1.0,
    ) -> None:
        require_postgres(store, "the remote executor")
        self.store, self.queue = store, check_queue(queue)
        self.routes = {k: check_queue(v) for k, v in (routes or {}).items()}
        self._capacity = capacity
        self._lease_check = lease_check
        self._steps: dict[str, StepDef] = {}
        self._buffer: list[tuple[sq.NewItem, _Item]] = []
        self._items: dict[int, _Item] = {}
        self._chunk_cursor = 0
        self._next_expiry = 0.0
        self._lost_by: dict[int, str | None] = {}
        self._listener: Listener | None = None

    @classmethod
    def from_options(cls, options: ExecutorOptions) -> RemoteExecutor:
        if options.store is None:
            raise ConfigError(
                "the remote executor needs the run's store",
                hint="pass store= (workers claim steps from it)",
            )
        return cls(options.store, options.queue)

    def start(self, setup: ExecutorSetup) -> None:
        self._steps = {s.key: s for s in setup.project.steps}
        if self._listener is None:
            self._listener = Listener(self.store, sq.DONE_CHANNEL)

    @property
    def capacity(self) -> int:
        return self._capacity

    def queue_of(self, node: str) -> str:
        step = self._steps.get(node)
        tagged = step.tags.get(QUEUE_TAG) if step is not None else None
        return self.routes.get(node) or (check_queue(tagged) if tagged else self.queue)

    def submit(self, spec: StepSpec) -> None:
        item = sq.NewItem(
            spec.run_id, str(spec.step), spec.attempt, self.queue_of(spec.step.node), encode(spec)
        )
        self._buffer.append((item, _Item(spec.step, spec.attempt)))

    def poll(self, timeout: float | None) -> list[Message]:
        self._flush()
        if not self._items:
            return []
        deadline = time.monotonic() + (timeout if timeout is not None else 3600.0)
        while True:
            out = self._collect()
            remaining = deadline - time.monotonic()
            if out or remaining <= 0:
                return out
            assert self._listener is not None, "start() first"
            self._listener.wait(min(remaining, 0.25))

    def cancel(self, step: StepKey) -> None:
        self._buffer = [(n, i) for n, i in self._buffer if i.step != step]
        ids = [job for job, item in self._items.items() if item.step == step]
        sq.cancel(self.store, ids)
        for job in ids:
            del self._items[job]

    def shutdown(self, *, kill: bool = False) -> None:
        self._buffer.clear()
        if self._items:
            sq.cancel(self.store, list(self._items))
            self._items.clear()
        if self._listener is not None:
            self._listener.close()
            self._listener = None

    # -- internals -----------------------------------------------------------------------------

    def _flush(self) -> None:
        if self._buffer:
            batch, self._buffer = self._buffer, []
            ids = sq.enqueue(self.store, [n for n, _ in batch])
            self._items.update(zip(ids, (i for _, i in batch), strict=True))

    def _collect(self) -> list[Message]:
        ids = list(self._items)
        if time.monotonic() >= self._next_expiry:
            self._next_expiry = time.monotonic() + self._lease_check
            self._lost_by.update(sq.expire(self.store, ids))
        finished, chunks = sq.collect(self.store, ids, self._chunk_cursor)
        out: list[Message] = []
        for chunk_id, job, lines in chunks:
            self._chunk_cursor = max(self._chunk_cursor, chunk_id)
            item = self._items.get(job)
            if item is None:
                continue
            try:
                out.append(LogChunk(item.step, item.attempt, decode_lines(lines)))
            except MalformedMessage:
                continue  # a garbled chunk loses its lines, not the step
        for row in finished:
            done = self._items.pop(row.id, None)
            if done is not None and row.status != sq.CANCELLED:
                out.append(self._outcome(row, done))
        sq.forget_logs(self.store, [row.id for row in finished])
        return out

    def _outcome(self, row: sq.Finished, item: _Item) -> StepOutcome:
        if row.status == sq.LOST:
            worker = self._lost_by.pop(row.id, None) or "its worker"
            error = WorkerLost(
                f"worker {worker} stopped renewing its lease on step {item.step} attempt "
                f"{item.attempt} (presumed dead)"
            )
            return StepOutcome(item.step, item.attempt, False, error=describe_error(error))
        try:
            outcome = decode_outcome(row.outcome or "")
            if (outcome.step, outcome.attempt) != (item.step, item.attempt):
                raise MalformedMessage(
                    f"outcome of row {row.id} names {outcome.step} attempt {outcome.attempt}"
                )
        except MalformedMessage as exc:
            return StepOutcome(item.step, item.attempt, False, error=describe_error(exc))
        return outcome
