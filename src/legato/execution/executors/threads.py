"""Thread executor: steps run in a thread pool inside the engine's process (I/O-bound work)."""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from legato.definitions.keys import StepKey
from legato.execution.executors._interrupt import StepInterrupted, interrupt_thread
from legato.execution.executors.base import ExecutorOptions, ExecutorSetup, Message
from legato.execution.io.fs import INLINE_RESULTS, FilesystemIOManager
from legato.execution.io.memory import MemoryIOManager
from legato.execution.resources import WorkerEnv
from legato.execution.spec import LogChunk, StepOutcome, StepSpec
from legato.execution.step import StepTimeout, describe_error, run_step


class ThreadExecutor:
    """A pool of threads. A timed-out step is reported failed at its deadline; its thread cannot be
    killed, so its late result is discarded (the engine ignores outcomes of abandoned attempts).
    A cancelled step's thread gets an asynchronous ``StepInterrupted`` at its next Python
    instruction (a blocking call in C finishes first)."""

    name = "threads"
    inline_results = INLINE_RESULTS

    def __init__(self, workers: int = 8, *, memory_io: MemoryIOManager | None = None) -> None:
        self.workers = workers
        self._pool: ThreadPoolExecutor | None = None
        self._done: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self._threads: dict[tuple[StepKey, int], int] = {}  # running attempt → thread id
        self._lock = threading.Lock()
        self._deadlines: dict[tuple[StepKey, int], float] = {}
        self._env: WorkerEnv | None = None
        self._memory_io = memory_io

    @classmethod
    def from_options(cls, options: ExecutorOptions) -> ThreadExecutor:
        return cls(options.max_concurrency or 8, memory_io=options.memory_io)

    def start(self, setup: ExecutorSetup) -> None:
        io = (
            FilesystemIOManager(setup.storage_root)
            if setup.storage_root is not None
            else self._memory_io or MemoryIOManager()
        )
        self._env = WorkerEnv(setup.project, io, keep_values=True, graph=setup.graph)
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="legato-step")

    @property
    def capacity(self) -> int:
        return self.workers

    def submit(self, spec: StepSpec) -> None:
        assert self._pool is not None and self._env is not None, "start() first"
        env = self._env
        if spec.timeout:
            self._deadlines[(spec.step, spec.attempt)] = time.monotonic() + spec.timeout
        future: Future[StepOutcome | None] = self._pool.submit(self._run, spec, env)
        future.add_done_callback(self._finished)

    def _run(self, spec: StepSpec, env: WorkerEnv) -> StepOutcome | None:
        attempt = (spec.step, spec.attempt)
        with self._lock:
            self._threads[attempt] = threading.get_ident()
        try:
            return run_step(spec, env, lambda batch: self._done.put(LogChunk(*attempt, batch)))
        except StepInterrupted:
            return None  # cancelled: the engine has already recorded it
        finally:
            with self._lock:
                self._threads.pop(attempt, None)

    def _finished(self, future: Future[Any]) -> None:
        if not future.cancelled() and future.exception() is None and future.result() is not None:
            self._done.put(future.result())

    def poll(self, timeout: float | None) -> list[Message]:
        out: list[Message] = []
        wait = timeout
        if self._deadlines:
            soonest = min(self._deadlines.values()) - time.monotonic()
            wait = max(0.0, soonest if wait is None else min(wait, soonest))
        try:
            out.append(self._done.get(timeout=wait))
            while True:
                out.append(self._done.get_nowait())
        except queue.Empty:
            pass
        for outcome in out:
            if isinstance(outcome, StepOutcome):
                self._deadlines.pop((outcome.step, outcome.attempt), None)
        now = time.monotonic()
        for (step, attempt), deadline in list(self._deadlines.items()):
            if now >= deadline:
                del self._deadlines[(step, attempt)]
                error = describe_error(StepTimeout("step ran longer than its timeout"))
                out.append(StepOutcome(step, attempt, False, error=error))
        return out

    def cancel(self, step: StepKey) -> None:
        for key in [k for k in self._deadlines if k[0] == step]:
            del self._deadlines[key]
        with self._lock:
            for (running, _), thread in self._threads.items():
                if running == step:
                    interrupt_thread(thread)

    def shutdown(self, *, kill: bool = False) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=not kill, cancel_futures=True)
        if self._env is not None:
            self._env.close()
