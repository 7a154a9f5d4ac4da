"""In-process executor: steps run one at a time in the engine's thread (tests, debugging).

A cancel (or a lost lease) interrupts the running step: in the main thread with SIGINT, which also
breaks a blocking sleep or read; in another thread with an asynchronous exception, which takes
effect at the step's next Python instruction.
"""

from __future__ import annotations

import signal
import threading
from collections import deque
from functools import partial
from types import FrameType

from legato.definitions.keys import StepKey
from legato.execution.executors._interrupt import StepInterrupted, interrupt_thread
from legato.execution.executors.base import ExecutorOptions, ExecutorSetup, LiveLogs, Message
from legato.execution.io.fs import INLINE_RESULTS, FilesystemIOManager
from legato.execution.io.memory import MemoryIOManager
from legato.execution.resources import WorkerEnv
from legato.execution.spec import StepSpec
from legato.execution.step import StepTimeout, run_step


class InProcessExecutor:
    """Runs each submitted step when polled. Timeouts use SIGALRM when in the main thread."""

    name = "inprocess"
    inline_results = INLINE_RESULTS

    def __init__(self, *, memory_io: MemoryIOManager | None = None) -> None:
        self._queue: deque[StepSpec] = deque()
        self._env: WorkerEnv | None = None
        self._memory_io = memory_io
        self._live: LiveLogs | None = None
        self._lock = threading.Lock()
        self._running_in: int | None = None  # the thread running a step, while it runs one
        self._interrupted = False
        self._old: object = None  # the SIGINT handler before ours (main thread only)

    @classmethod
    def from_options(cls, options: ExecutorOptions) -> InProcessExecutor:
        return cls(memory_io=options.memory_io)

    def start(self, setup: ExecutorSetup) -> None:
        io = (
            FilesystemIOManager(setup.storage_root)
            if setup.storage_root is not None
            else self._memory_io or MemoryIOManager()
        )
        self._env = WorkerEnv(setup.project, io, keep_values=True, graph=setup.graph)
        self._live = setup.live_logs

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
            live = None if self._live is None else partial(self._live, spec.step, spec.attempt)
            with _alarm(spec.timeout), _Interruptible(self):
                out.append(run_step(spec, self._env, live))
        return out

    def interrupt(self) -> None:
        """Stop the step running now (called from another thread); no-op between steps."""
        with self._lock:
            thread = self._running_in
            if thread is None:
                return
            self._interrupted = True
            if thread == threading.main_thread().ident:
                signal.pthread_kill(thread, signal.SIGINT)
            else:
                interrupt_thread(thread)

    def cancel(self, step: StepKey) -> None:
        self._queue = deque(s for s in self._queue if s.step != step)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        if self._running_in is not None:  # an interrupt, or Ctrl-C, while a step runs
            raise StepInterrupted("the step was stopped from outside its run")
        if self._interrupted:
            return  # meant for a step that has ended meanwhile
        previous = self._old
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt

    def shutdown(self, *, kill: bool = False) -> None:
        if self._old is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, self._old)  # type: ignore[arg-type]
            self._old = None
        if self._env is not None:
            self._env.close()


class _Interruptible:
    """While a step runs: where it runs (for ``interrupt``). In the main thread, SIGINT is
    handled by the executor from the first step until ``shutdown``: during a step it raises
    StepInterrupted there; an interrupt that arrives after its step ended is dropped; between
    steps a Ctrl-C goes to the handler that was there before."""

    def __init__(self, executor: InProcessExecutor) -> None:
        self.executor = executor

    def __enter__(self) -> None:
        executor = self.executor
        if threading.current_thread() is threading.main_thread() and executor._old is None:
            executor._old = signal.signal(signal.SIGINT, executor._on_sigint)
        with executor._lock:
            executor._interrupted = False
            executor._running_in = threading.get_ident()

    def __exit__(self, *exc: object) -> None:
        with self.executor._lock:
            self.executor._running_in = None


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
