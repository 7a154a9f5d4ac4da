"""Holding a run: the engine takes the run's lease before it writes anything, and a watch thread
renews it, notices a cancel request and writes live log lines while steps run. A lost lease
fences the engine: it stops its steps and leaves the record to whoever holds the run now."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

from legato.definitions.keys import StepKey
from legato.events.status import RunStatus
from legato.execution.capture import LogRecordTuple
from legato.execution.engine_parts import EngineParts
from legato.execution.executors.base import Executor
from legato.execution.run_watch import RunWatch
from legato.store.run_leases import renew_lease
from legato.store.runs import get_run


class Leases(EngineParts):
    executor: Executor
    launcher: str
    cancel_requested: threading.Event
    _lease: float
    _live: RunWatch | None
    _watching: bool

    def _claim(self) -> bool:
        """Take (or keep) the run's lease before writing anything."""
        return renew_lease(self.store, self.run_id, self.launcher, time.time() + self._lease)

    def _holds_lease(self) -> bool:
        if self._live is None:
            return True
        if self._live.held_until - time.monotonic() > self._lease / 3:
            return True
        return self._live.renew()

    def _watch(self) -> RunWatch | None:
        if not self._watching:
            return None
        watch = RunWatch(
            self.store,
            self.run_id,
            self.launcher,
            self._lease,
            on_cancel=self._cancel_from_watch,
            on_fenced=self._fenced_from_watch,
        )
        self._live = watch
        watch.start()
        return watch

    def _cancel_from_watch(self) -> None:
        self.cancel_requested.set()
        self._interrupt()

    def _fenced_from_watch(self) -> None:
        self._lease_lost.set()
        self._interrupt()

    def _interrupt(self) -> None:
        """Stop a step that runs in the engine's own thread (the in-process executor); other
        executors' steps are stopped by ``cancel`` once the loop sees the flag."""
        interrupt = getattr(self.executor, "interrupt", None)
        if interrupt is not None:
            interrupt()

    def live_logs(self, step: StepKey, attempt: int, records: Sequence[LogRecordTuple]) -> None:
        """Lines of a running step, written by the watch within a fraction of a second (called
        from any thread)."""
        live = self._live
        if live is not None:
            live.add_logs(self._log_rows(str(step), records))

    def _fenced(self) -> RunStatus:
        """Our lease is gone: stop the steps and leave the record to whoever holds the run now."""
        for key in list(self.state.running):
            self.executor.cancel(key)
        self.state.running.clear()
        self._events.clear()
        self._logs.clear()
        return get_run(self.store, self.run_id).status
