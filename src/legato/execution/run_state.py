"""What a run's engine knows while it runs: the state of each step, and the members its parts
(the loop in ``engine``, crash resume in ``resume``, fan-out in ``fanout``) share."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from legato.definitions.keys import StepKey
from legato.events.status import StepStatus
from legato.events.types import Event, EventType
from legato.execution.spec import StepOutcome
from legato.graph.graph import Graph
from legato.graph.plan import Plan, PlannedStep
from legato.store.engine import Store
from legato.store.runs import NewStep


class StepLost(RuntimeError):
    """The process running a step attempt vanished (the run was taken over by another)."""


@dataclass
class RunState:
    status: dict[StepKey, StepStatus] = field(default_factory=dict)
    attempt: dict[StepKey, int] = field(default_factory=dict)
    waits: dict[StepKey, set[StepKey]] = field(default_factory=dict)
    children: dict[StepKey, list[StepKey]] = field(default_factory=dict)
    items: dict[StepKey, list[StepKey]] = field(default_factory=dict)
    items_left: dict[StepKey, int] = field(default_factory=dict)  # fan-out items not finished
    lengths: dict[StepKey, int] = field(default_factory=dict)
    reused_from: dict[StepKey, str] = field(default_factory=dict)
    unfinished: int = 0


class EngineParts:
    """The members shared by the engine's parts; ``RunEngine`` sets them and defines the rest."""

    store: Store
    graph: Graph
    plan: Plan
    run_id: str
    s: RunState
    _ready: deque[StepKey]
    _running: set[StepKey]
    _new_steps: list[NewStep]
    _template_of: dict[StepKey, StepKey]
    _planned: dict[StepKey, PlannedStep]
    _templates: set[StepKey]
    _ranged: set[StepKey]
    _lease_lost: threading.Event

    def _adopt_items(self, template: StepKey, items: list[StepKey]) -> None:
        """Track ``items`` as the pending steps of fan-out ``template``."""
        self.s.items[template] = items
        self.s.items_left[template] = len(items)
        self.s.lengths[template] = len(items)
        for item in items:
            self._template_of[item] = template
            self.s.status[item] = StepStatus.PENDING
            self.s.attempt[item] = 0
            self.s.unfinished += 1

    def _step_event(
        self, key: StepKey, type_: EventType, data: dict[str, Any] | None = None
    ) -> None:
        raise NotImplementedError

    def _done(self, key: StepKey) -> None:
        raise NotImplementedError

    def _emit(self, event: Event) -> None:
        raise NotImplementedError

    def _reuse(self, key: StepKey, from_run: str) -> None:
        raise NotImplementedError

    def _failed(self, outcome: StepOutcome) -> None:
        raise NotImplementedError

    def _finish_template(self, template: StepKey) -> None:
        raise NotImplementedError

    def _reused_items(self, template: StepKey, run: str) -> tuple[str, ...]:
        raise NotImplementedError
