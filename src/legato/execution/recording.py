"""Recording a run: the engine buffers the events, log lines and new steps of one loop iteration
and commits them in one transaction before it acts on them; with ``durability = "strict"`` each
event is committed as it happens, with the log lines and new steps that came before it. While the
store is unreachable the batch is kept and retried; steps go on running meanwhile. When the engine
itself fails, what it was running is recorded as failed, so that nothing is left running."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable, Sequence
from typing import Any

from legato.definitions.keys import StepKey
from legato.errors import StoreError
from legato.events.status import RunStatus, StepStatus
from legato.events.transitions import next_run_status, next_step_status
from legato.events.types import Event, EventType
from legato.execution.capture import LogRecordTuple
from legato.execution.engine_parts import EngineParts
from legato.store import event_log
from legato.store.runs import NewStep, add_steps, get_steps

log = logging.getLogger("legato.engine")

# How long an engine keeps the events of a run while its store is unreachable before it gives
# up (the run is then resumed by whoever reaches the store after its lease).
STORE_OUTAGE_LIMIT = 600

OnEvents = Callable[[Sequence[Event]], None]


class Recording(EngineParts):
    on_events: OnEvents | None
    _run_status: RunStatus
    _assets: set[str]
    _watching: bool

    def _step_event(
        self,
        key: StepKey,
        type_: EventType,
        data: dict[str, Any] | None = None,
        *,
        ts: float | None = None,
    ) -> None:
        state = self.state[key]
        state.status = next_step_status(state.status, type_)
        if key.node in self._assets and key not in self._ranged:  # status per asset partition
            data = {**(data or {}), "asset_key": key.node, "partition": key.partition}
        self._emit(
            Event(
                type_,
                self.run_id,
                str(key),
                state.attempt,
                time.time() if ts is None else ts,
                state.status.value,
                data or {},
            )
        )

    def _run_event(self, type_: EventType, data: dict[str, Any] | None = None) -> None:
        self._run_status = next_run_status(self._run_status, type_)
        self._emit(
            Event(type_, self.run_id, "", 0, time.time(), self._run_status.value, data or {})
        )

    def _emit(self, event: Event) -> None:
        self._events.append(event)
        if self.store.strict:  # durability = "strict": every state change commits on its own
            self._flush()

    def _add_logs(self, key: StepKey, records: Sequence[LogRecordTuple]) -> None:
        self._logs.extend(self._log_rows(str(key), records))

    def _log_rows(self, step: str, records: Sequence[LogRecordTuple]) -> list[dict[str, Any]]:
        return [
            {
                "run_id": self.run_id,
                "step_key": step,
                "ts": ts,
                "level": level,
                "stream": stream,
                "message": message,
            }
            for ts, level, stream, message in records
        ]

    def _flush(self) -> None:
        if not (self._events or self._logs or self._new_steps):
            return
        events, logs, new_steps = self._events, self._logs, self._new_steps
        self._events, self._logs, self._new_steps = [], [], []
        if not self._write(events, logs, new_steps):
            return
        if self.on_events is not None and events:
            self.on_events(events)

    def _write(self, events: list[Event], logs: list[dict[str, Any]], steps: list[NewStep]) -> bool:
        """Commit one batch. While the store is unreachable the batch is kept and retried (steps
        go on running meanwhile); once it answers again the run must still be ours: if another
        process took it over during the outage, the batch is dropped and the loop stops at the
        fence (False)."""
        waited, delay = 0.0, 0.5
        while True:
            try:
                if waited and not self._claim():
                    self._lease_lost.set()
                    return False
                with self.store.transaction() as conn:
                    add_steps(conn, self.run_id, steps)
                    event_log.append(conn, events, logs)
                if waited:
                    log.warning("run %s: the store answers again; recording resumed", self.run_id)
                return True
            except StoreError as exc:
                if not self._watching or waited >= STORE_OUTAGE_LIMIT:
                    raise
                if not waited:
                    log.warning(
                        "run %s: the store is unreachable (%s); keeping %d event(s) and "
                        "retrying for up to %d s",
                        self.run_id,
                        exc.message,
                        len(events),
                        STORE_OUTAGE_LIMIT,
                    )
                time.sleep(delay)
                waited += delay
                delay = min(delay * 2, 5.0)

    def _crash(self, exc: BaseException) -> None:
        """The engine itself failed: record it (best effort) so the run and its steps are never
        left running: steps the store shows running fail with the reason, pending ones skip."""
        try:
            self._events.clear()
            self._logs.clear()
            self._new_steps.clear()
            error = {
                "type": type(exc).__name__,
                "message": f"the engine failed: {exc!r}",
                "traceback": "".join(traceback.format_exception(exc))[-50_000:],
            }
            for step in get_steps(self.store, self.run_id):
                if step.status.finished:
                    continue
                ends = step.status is not StepStatus.PENDING
                data: dict[str, Any] = {"error": error} if ends else {"reason": "the engine failed"}
                if step.kind == "asset" and step.node not in {k.node for k in self._ranged}:
                    data.update(asset_key=step.node, partition=step.partition)
                self._emit(
                    Event(
                        EventType.STEP_FAILED if ends else EventType.STEP_SKIPPED,
                        self.run_id,
                        step.step_key,
                        step.attempt,
                        time.time(),
                        (StepStatus.FAILED if ends else StepStatus.SKIPPED).value,
                        data,
                    )
                )
            self._run_event(EventType.RUN_FAILED, {"error": error})
            self._flush()
        except Exception:  # noqa: S110 - the original error is what the caller must see
            pass
