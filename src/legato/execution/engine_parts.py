"""The members a run's engine shares with its parts: the loop (``engine``), recording
(``recording``), the lease (``leases``, ``fencing``), crash resume (``resume``), fan-out
(``fanout``), inputs (``inputs``) and outcomes (``outcomes``). ``RunEngine`` sets them and
defines the methods stubbed here."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from legato.definitions.keys import StepKey
from legato.events.types import Event, EventType
from legato.execution.capture import LogRecordTuple
from legato.execution.run_state import RunState
from legato.execution.spec import StepOutcome
from legato.graph.graph import Graph
from legato.graph.plan import Plan, PlannedStep
from legato.store.engine import Store
from legato.store.runs import NewStep


class EngineParts:
    store: Store
    graph: Graph
    plan: Plan
    run_id: str
    state: RunState
    _new_steps: list[NewStep]
    _planned: dict[StepKey, PlannedStep]
    _templates: set[StepKey]
    _ranged: set[StepKey]
    _lease_lost: threading.Event
    _events: list[Event]  # recorded at the next flush, with the log rows and new steps
    _logs: list[dict[str, Any]]

    def _step_event(
        self,
        key: StepKey,
        type_: EventType,
        data: dict[str, Any] | None = None,
        *,
        ts: float | None = None,
    ) -> None:
        raise NotImplementedError

    def _emit(self, event: Event) -> None:
        raise NotImplementedError

    def _log_rows(self, step: str, records: Sequence[LogRecordTuple]) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _claim(self) -> bool:
        raise NotImplementedError

    def _done(self, key: StepKey) -> None:
        raise NotImplementedError

    def _reuse(self, key: StepKey, from_run: str) -> None:
        raise NotImplementedError

    def _failed(self, outcome: StepOutcome) -> None:
        raise NotImplementedError

    def _finish_template(self, template: StepKey) -> None:
        raise NotImplementedError

    def _reused_items(self, template: StepKey, run: str) -> tuple[str, ...]:
        raise NotImplementedError
