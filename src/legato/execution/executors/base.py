"""The executor protocol: start, submit a step attempt, poll for outcomes, cancel, shut down."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from legato.definitions.keys import StepKey
from legato.definitions.project import Project
from legato.execution.capture import LogRecordTuple
from legato.execution.spec import LogChunk, StepOutcome, StepSpec
from legato.graph.graph import Graph

if TYPE_CHECKING:
    from legato.execution.io.memory import MemoryIOManager
    from legato.store.engine import Store

Message = StepOutcome | LogChunk
LiveLogs = Callable[[StepKey, int, Sequence[LogRecordTuple]], None]


@dataclass(frozen=True)
class ExecutorSetup:
    """What every executor receives: the project (or how to load it) and where values live."""

    project: Project
    storage_root: Path | None  # None: values stay in memory (only in-process executors)
    sys_path: tuple[str, ...] = ()
    parallel_hint: int = 0  # most steps that could run at once (0: unknown); sizes worker start-up
    # Where lines of a step running in the engine's own process go while it runs (any thread may
    # call it); executors whose steps run elsewhere send ``LogChunk`` messages instead.
    live_logs: LiveLogs | None = None
    # The project's graph, as the engine built it: executors whose steps run in the engine's
    # process use it instead of building it again (other processes build their own).
    graph: Graph | None = None


@dataclass(frozen=True)
class ExecutorOptions:
    """What an executor is made with, whichever it is. An executor plugin (entry-point group
    ``legato.executors``) names a callable that takes these and returns an :class:`Executor`."""

    max_concurrency: int | None = None  # steps at once; None: the executor's own default
    memory_io: MemoryIOManager | None = None  # values kept in memory (in-process executors)
    store: Store | None = None  # the run's store (remote workers claim steps from it)
    queue: str = "default"  # the queue of steps no route sends elsewhere (remote)
    keep_workers: bool = False  # keep idle workers from one run to the next (process pool)


class Executor(Protocol):
    """Runs step attempts. The engine calls it from one thread.

    ``poll`` returns outcomes of finished attempts (and log chunks of running ones) and waits up to
    ``timeout`` seconds when there is nothing yet. An executor reports a timed-out, crashed or
    cancelled attempt as a failed outcome; it never drops one silently.

    Optional attributes, read with a default of 0: ``inline_results`` (bytes), the largest task
    result whose stored form its steps may return in the outcome for the engine to write
    (executors on the engine's machine: a file per result costs more than the copy);
    ``queue_depth``, how many steps beyond ``capacity`` it takes and starts as slots free (a
    step's timeout counts from its start, not from its hand-over).
    """

    name: str

    def start(self, setup: ExecutorSetup) -> None: ...

    @property
    def capacity(self) -> int: ...

    def submit(self, spec: StepSpec) -> None: ...

    def poll(self, timeout: float | None) -> list[Message]: ...

    def cancel(self, step: StepKey) -> None: ...

    def shutdown(self, *, kill: bool = False) -> None: ...


class WorkerLost(RuntimeError):
    """The process running a step died before reporting an outcome."""
