"""In-process executor: steps run one at a time in the engine's thread (tests, debugging)."""

from __future__ import annotations

import signal
import threading
from collections import deque
from types import FrameType

from legato.definitions.keys import StepKey
from legato.execution.executors.base import ExecutorSetup, Message
from legato.execution.io.fs import FilesystemIOManager
from legato.execution.io.memory import MemoryIOManager
from legato.execution.resources import WorkerEnv
from legato.execution.spec import StepSpec
from legato.execution.step import StepTimeout, run_step


class InProcessExecutor:
    """Runs each submitted step when polled. Timeouts use SIGALRM when in the main thread."""

    name = "inprocess"

    def __init__(self, *, memory_io: MemoryIOManager | None = None) -> None:
        self._queue: deque[StepSpec] = deque()
        self._env: WorkerEnv | None = None
        self._memory_io = memory_io

    def start(self, setup: ExecutorSetup) -> None:
        io = (
            FilesystemIOManager(setup.storage_root)
            if setup.storage_root is not None
            else self._memory_io or MemoryIOManager()
        )
        self._env = WorkerEnv(setup.project, io, keep_values=True)

    @property
    def capacity(self) -> int:
        return 1_000_000  # the engine's concurrency limit is what bounds the queue

    def submit(self, spec: StepSpec) -> None:
        self._queue.append(spec)

    def poll(self, timeout: float | None) -> list[Message]:
        assert self._env is not None, "start() first"
        out: list[Message] = []
        while self._queue:
            spec = self._queue.popleft()
            with _alarm(spec.timeout):
                out.append(run_step(spec, self._env))
        return out

    def cancel(self, step: StepKey) -> None:
        self._queue = deque(s for s in self._queue if s.step != step)

    def shutdown(self, *, kill: bool = False) -> None:
        if self._env is not None:
            self._env.close()


class _alarm:
    """Raise StepTimeout in the main thread after ``seconds``."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds if threading.current_thread() is threading.main_thread() else None
        self._old: object = None

    def __enter__(self) -> None:
        if self.seconds:
            self._old = signal.signal(signal.SIGALRM, self._fire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def _fire(self, _signum: int, _frame: FrameType | None) -> None:
        raise StepTimeout(f"step ran longer than its timeout of {self.seconds:g} s")

    def __exit__(self, *exc: object) -> None:
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old)  # type: ignore[arg-type]
