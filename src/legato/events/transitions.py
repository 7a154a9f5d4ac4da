"""The only place a status changes: the table of legal transitions for runs and steps."""

from __future__ import annotations

from legato.errors import LegatoError
from legato.events.status import RunStatus, StepStatus
from legato.events.types import EventType

S = StepStatus
R = RunStatus

STEP_TRANSITIONS: dict[EventType, tuple[frozenset[StepStatus], StepStatus]] = {
    EventType.STEP_STARTED: (frozenset({S.PENDING, S.RETRYING}), S.RUNNING),
    EventType.STEP_EXPANDED: (frozenset({S.PENDING}), S.RUNNING),
    EventType.STEP_SUCCEEDED: (frozenset({S.RUNNING}), S.SUCCEEDED),
    EventType.STEP_FAILED: (frozenset({S.RUNNING, S.PENDING, S.RETRYING}), S.FAILED),
    EventType.STEP_RETRY: (frozenset({S.RUNNING}), S.RETRYING),
    EventType.STEP_SKIPPED: (frozenset({S.PENDING}), S.SKIPPED),
    EventType.STEP_REUSED: (frozenset({S.PENDING}), S.REUSED),
    EventType.STEP_CANCELLED: (frozenset({S.PENDING, S.RUNNING, S.RETRYING}), S.CANCELLED),
}

RUN_TRANSITIONS: dict[EventType, tuple[frozenset[RunStatus], RunStatus]] = {
    EventType.RUN_STARTED: (frozenset({R.QUEUED}), R.RUNNING),
    EventType.RUN_SUCCEEDED: (frozenset({R.RUNNING}), R.SUCCEEDED),
    EventType.RUN_FAILED: (frozenset({R.QUEUED, R.RUNNING, R.CANCELING}), R.FAILED),
    EventType.RUN_CANCELING: (frozenset({R.QUEUED, R.RUNNING}), R.CANCELING),
    EventType.RUN_CANCELLED: (frozenset({R.QUEUED, R.RUNNING, R.CANCELING}), R.CANCELLED),
}


class IllegalTransition(LegatoError):
    """An event would move a run or step along an edge the table does not allow."""


def next_step_status(current: StepStatus, event: EventType) -> StepStatus:
    """The status a step moves to on ``event``; raises IllegalTransition if not allowed."""
    allowed, target = STEP_TRANSITIONS[event]
    if current not in allowed:
        raise IllegalTransition(
            f"step cannot go from {current} on {event}",
            hint="this is a bug in Legato; please report it",
        )
    return target


def next_run_status(current: RunStatus, event: EventType) -> RunStatus:
    """The status a run moves to on ``event``; raises IllegalTransition if not allowed."""
    allowed, target = RUN_TRANSITIONS[event]
    if current not in allowed:
        raise IllegalTransition(
            f"run cannot go from {current} on {event}", hint="the run may already be finished"
        )
    return target
