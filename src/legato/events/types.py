"""Event records: every state change of a run or step is one of these, appended to the store."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventType(StrEnum):
    RUN_STARTED = "run_started"
    RUN_SUCCEEDED = "run_succeeded"
    RUN_FAILED = "run_failed"
    RUN_CANCELING = "run_canceling"
    RUN_CANCELLED = "run_cancelled"
    STEP_STARTED = "step_started"
    STEP_SUCCEEDED = "step_succeeded"
    STEP_FAILED = "step_failed"
    STEP_RETRY = "step_retry"  # an attempt failed and will be retried
    STEP_SKIPPED = "step_skipped"
    STEP_REUSED = "step_reused"
    STEP_CANCELLED = "step_cancelled"
    STEP_EXPANDED = "step_expanded"  # a dynamic fan-out learned its items
    MATERIALIZED = "materialized"
    CHECK_EVALUATED = "check_evaluated"  # a check's result on the materialization it checked


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened. ``status`` is the status it moved its run or step to (if any)."""

    type: EventType
    run_id: str
    step: str = ""
    attempt: int = 0
    ts: float = 0.0
    status: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
