"""Run and step statuses."""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELING = "canceling"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in _RUN_FINISHED


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"  # an attempt failed; another is scheduled
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"  # an upstream failed or was cancelled
    REUSED = "reused"  # output taken from an earlier run (rerun from failure)
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in _STEP_FINISHED

    @property
    def ok(self) -> bool:
        """Finished with an output downstream steps can use."""
        return self in (StepStatus.SUCCEEDED, StepStatus.REUSED)


_RUN_FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED})
_STEP_FINISHED = frozenset(
    {
        StepStatus.SUCCEEDED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.REUSED,
        StepStatus.CANCELLED,
    }
)
