"""The executor protocol: start, submit a step attempt, poll for outcomes, cancel, shut down."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from legato.definitions.keys import StepKey
from legato.definitions.project import Project
from legato.execution.capture import LogRecordTuple
from legato.execution.spec import LogChunk, StepOutcome, StepSpec

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


class Executor(Protocol):
    """Runs step attempts. The engine calls it from one thread.

    ``poll`` returns outcomes of finished attempts (and log chunks of running ones) and waits up to
    ``timeout`` seconds when there is nothing yet. An executor reports a timed-out, crashed or
    cancelled attempt as a failed outcome; it never drops one silently.
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
