"""What a run's engine knows while it runs: one record per step, and the queues its loop drains
(steps ready to start, retries waiting for their delay, attempts handed to the executor)."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from legato.definitions.keys import StepKey
from legato.events.status import StepStatus
from legato.graph.plan import PlannedStep


class StepLost(RuntimeError):
    """The process running a step attempt vanished (the run was taken over by another)."""


@dataclass(slots=True)
class StepState:
    """One step of the run: its status and latest attempt, what it waits for, and what it made."""

    status: StepStatus = StepStatus.PENDING
    attempt: int = 0  # the latest attempt started (0: none yet)
    waits: set[StepKey] = field(default_factory=set)  # upstream steps it still waits for
    children: list[StepKey] = field(default_factory=list)  # the steps that wait for it
    started_at: float | None = None  # when the running attempt was handed to the executor
    length: int | None = None  # the length of its list result (a fan-out maps over it)
    reused_from: str | None = None  # the earlier run whose value it reuses
    template: StepKey | None = None  # the fan-out it is an item of
    items: list[StepKey] | None = None  # a fan-out's items, once expanded
    items_left: int = 0  # of those, the ones not finished


class RunState:
    """Every step's record, in plan order (then fan-out items as they appear), and the loop's
    queues: ``ready`` to start, ``retries`` (due time, step) and the ``running`` attempts."""

    def __init__(self) -> None:
        self.steps: dict[StepKey, StepState] = {}
        self.ready: deque[StepKey] = deque()
        self.retries: list[tuple[float, StepKey]] = []  # a heap, soonest first
        self.running: set[StepKey] = set()
        self.unfinished = 0

    def __getitem__(self, key: StepKey) -> StepState:
        return self.steps[key]

    def add_planned(self, planned: Sequence[PlannedStep]) -> None:
        """A record for each planned step, pending and linked to the steps it waits for."""
        for step in planned:
            self.steps[step.key] = StepState(waits=set(step.waits_for))
        for step in planned:
            for up in step.waits_for:
                self.steps[up].children.append(step.key)
        self.unfinished += len(planned)

    def adopt_items(self, template: StepKey, items: list[StepKey]) -> None:
        """Track ``items`` as the pending steps of fan-out ``template``."""
        state = self.steps[template]
        state.items, state.items_left, state.length = items, len(items), len(items)
        for item in items:
            self.steps[item] = StepState(template=template)
        self.unfinished += len(items)

    def run_of(self, key: StepKey, default: str) -> str:
        """The run whose value of ``key`` a reader gets: the earlier run it was reused from, or
        ``default`` (this run, or a step outside the plan)."""
        state = self.steps.get(key)
        return default if state is None or state.reused_from is None else state.reused_from

    def retry_at(self, due: float, key: StepKey) -> None:
        heapq.heappush(self.retries, (due, key))

    def release_due_retries(self, now: float) -> None:
        """Move the retries whose delay has passed to the ready queue."""
        while self.retries and self.retries[0][0] <= now:
            _, key = heapq.heappop(self.retries)
            self.ready.append(key)
