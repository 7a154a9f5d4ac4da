"""Process-pool executor: long-lived worker processes, one step at a time each.

Workers are started once per run (never one process per step) with the pickled project; each
receives step specs over a pipe and answers with log chunks and an outcome. The pool takes up to
``QUEUE_PER_WORKER`` steps per worker beyond those running and hands the next to a worker as
soon as its outcome arrives; a step's clock starts when a worker takes it. A step that overruns
its timeout is stopped by killing its worker; a worker that dies (crash, SIGKILL, OOM) fails its
step, which the engine retries per policy; the pool replaces the worker on demand.

A process that executes run after run of one project (a daemon's run worker, a backfill) keeps
its workers between runs (``keep_workers=True``): the next run with the same project and storage
reuses the idle ones instead of starting Python and loading the project again.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections import deque
from multiprocessing.connection import wait

from legato.definitions.keys import StepKey
from legato.execution.children import how_it_ended, spawn_child
from legato.execution.executors._step_child import READY, StepChild
from legato.execution.executors.base import ExecutorOptions, ExecutorSetup, Message, WorkerLost
from legato.execution.io.fs import INLINE_RESULTS
from legato.execution.spec import StepOutcome, StepSpec
from legato.execution.step import StepTimeout, describe_error

# Steps the pool takes beyond its workers, per worker: a worker that finishes one starts the
# next at once, and the engine records starts and outcomes in batches instead of one at a time.
QUEUE_PER_WORKER = 4


class ProcessPoolExecutor:
    """Up to ``workers`` processes, started when the run starts and kept for the whole run.

    Workers are plain ``python -m legato.execution.executors.step_worker`` processes in their own
    session (Ctrl-C reaches only the engine, which stops them; killing one kills its children).
    """

    name = "process"
    inline_results = INLINE_RESULTS  # workers share the engine's machine

    def __init__(self, workers: int | None = None, *, keep_workers: bool = False) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.keep_workers = keep_workers
        self._boot: bytes = b""
        self._paths: tuple[str, tuple[str, ...]] = ("", ())
        self._pool: list[StepChild] = []
        self._queue: deque[StepSpec] = deque()

    @classmethod
    def from_options(cls, options: ExecutorOptions) -> ProcessPoolExecutor:
        return cls(options.max_concurrency or None, keep_workers=options.keep_workers)

    def start(self, setup: ExecutorSetup) -> None:
        import cloudpickle

        if setup.storage_root is None:
            raise ValueError("the process executor needs a storage root shared with its workers")
        paths = (str(setup.storage_root), setup.sys_path or tuple(sys.path))
        boot = cloudpickle.dumps(setup.project)
        if (paths, boot) != (self._paths, self._boot):  # another project: no worker fits
            self.shutdown(kill=True, keep=False)
        self._paths, self._boot = paths, boot
        self._queue.clear()
        for _ in range(min(self.workers, setup.parallel_hint or self.workers) - len(self._pool)):
            self._spawn()  # boot in parallel with the engine's own start-up

    @property
    def capacity(self) -> int:
        return self.workers

    @property
    def queue_depth(self) -> int:
        """Steps it queues beyond its workers (each starts its clock when a worker takes it)."""
        return self.workers * QUEUE_PER_WORKER

    def submit(self, spec: StepSpec) -> None:
        self._queue.append(spec)
        self._dispatch()

    def _dispatch(self) -> None:
        while self._queue:
            worker = next((w for w in self._pool if w.spec is None), None)
            if worker is None:
                if len(self._pool) >= self.workers:
                    return
                worker = self._spawn()
            spec = self._queue.popleft()
            worker.assign(spec)
            worker.send.send(spec)

    def _spawn(self) -> StepChild:
        worker = StepChild(
            *spawn_child("legato.execution.executors.step_worker", die_with_parent=True)
        )
        worker.send.send(self._paths)
        worker.send.send_bytes(self._boot)
        self._pool.append(worker)
        return worker

    def poll(self, timeout: float | None) -> list[Message]:
        busy = [w for w in self._pool if w.spec is not None]
        if not busy:
            return []
        deadlines = [w.deadline for w in busy if w.deadline is not None]
        if deadlines:
            until = max(0.0, min(deadlines) - time.monotonic())
            timeout = until if timeout is None else min(timeout, until)
        # A worker that dies closes its end of the pipe: its connection turns readable with EOF.
        ready = set(wait([w.recv for w in busy], timeout))
        out: list[Message] = []
        for worker in busy:
            if worker.recv in ready:
                self._receive(worker, out)
            elif worker.overran(time.monotonic()):
                spec = worker.spec
                self._kill(worker)
                assert spec is not None
                error = describe_error(
                    StepTimeout(f"step ran longer than its timeout of {spec.timeout:g} s")
                )
                out.append(StepOutcome(spec.step, spec.attempt, False, error=error))
        self._dispatch()
        return out

    def _receive(self, worker: StepChild, out: list[Message]) -> None:
        try:
            while worker.recv.poll():
                message = worker.recv.recv()
                if message == READY:
                    worker.saw_ready()
                    continue
                out.append(message)
                if isinstance(message, StepOutcome):
                    worker.release()
                    return
        except (EOFError, OSError):
            self._lost(worker, out, how_it_ended(worker.process, "the worker process"))

    def _lost(self, worker: StepChild, out: list[Message], why: str) -> None:
        spec = worker.spec
        self._kill(worker)
        if spec is not None:
            error = describe_error(WorkerLost(why))
            out.append(StepOutcome(spec.step, spec.attempt, False, error=error))

    def _kill(self, worker: StepChild) -> None:
        worker.release()
        worker.kill()  # the worker and its children
        worker.close()
        self._pool.remove(worker)

    def cancel(self, step: StepKey) -> None:
        self._queue = deque(s for s in self._queue if s.step != step)
        for worker in list(self._pool):
            if worker.spec is not None and worker.spec.step == step:
                self._kill(worker)

    def shutdown(self, *, kill: bool = False, keep: bool | None = None) -> None:
        """Stop the workers (``kill``: at once); with ``keep_workers``, idle ones stay for the
        next run unless ``keep=False``."""
        keep = self.keep_workers if keep is None else keep
        for worker in list(self._pool):
            if kill or worker.spec is not None:
                self._kill(worker)
        if keep:
            return
        for worker in list(self._pool):
            with contextlib.suppress(OSError):
                worker.send.send(None)
        for worker in list(self._pool):
            try:
                worker.process.wait(5)
                worker.close()
                self._pool.remove(worker)
            except subprocess.TimeoutExpired:
                self._kill(worker)
