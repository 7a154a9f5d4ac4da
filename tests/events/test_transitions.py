import pytest

from legato.events.status import RunStatus, StepStatus
from legato.events.transitions import (
    STEP_TRANSITIONS,
    IllegalTransition,
    next_run_status,
    next_step_status,
)
from legato.events.types import EventType


def test_step_lifecycle_with_a_retry():
    status = StepStatus.PENDING
    for event in (
        EventType.STEP_STARTED,
        EventType.STEP_RETRY,
        EventType.STEP_STARTED,
        EventType.STEP_SUCCEEDED,
    ):
        status = next_step_status(status, event)
    assert status is StepStatus.SUCCEEDED


@pytest.mark.parametrize("event", list(STEP_TRANSITIONS))
def test_finished_steps_never_move_again(event):
    for finished in (s for s in StepStatus if s.finished):
        with pytest.raises(IllegalTransition):
            next_step_status(finished, event)


def test_a_finished_run_cannot_be_cancelled():
    with pytest.raises(IllegalTransition, match="already be finished"):
        next_run_status(RunStatus.SUCCEEDED, EventType.RUN_CANCELING)
    assert next_run_status(RunStatus.RUNNING, EventType.RUN_CANCELING) is RunStatus.CANCELING
