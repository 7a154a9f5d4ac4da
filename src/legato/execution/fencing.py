"""Fencing: a run's values are published only by the engine that holds its lease (``leases``).

Values of the default IO manager are staged under the attempt by whatever process ran the step;
the engine moves them into place after checking that the run is still its own, so an attempt
that lost its run (a paused worker, an engine cut off from the store) never overwrites the value
of the attempt that replaced it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any, Protocol

from legato.errors import LegatoError
from legato.execution.leases import Leases
from legato.execution.spec import StepOutcome
from legato.execution.step import describe_error


class Publish(Protocol):
    """Move a staged value into place; its metadata there. ``first_attempt``: no earlier
    attempt of the step in this run can have put a value at its place."""

    def __call__(
        self, metadata: Mapping[str, Any], *, first_attempt: bool = False
    ) -> dict[str, Any]: ...


class Fencing(Leases):
    publish: Publish | None

    def _published(self, outcome: StepOutcome) -> StepOutcome | None:
        """Put the attempt's staged values in place, if this engine still holds the run (None if
        it does not); a value that cannot be published fails the attempt."""
        if self.publish is None or not _has_stage(outcome.metadata):
            return outcome
        if not self._holds_lease():
            self._lease_lost.set()
            return None
        # Attempt numbers are never reused (a resumed run retries a lost attempt as the next
        # one), so attempt 1 is the first to publish at its place in this run.
        first = outcome.attempt == 1
        try:
            parts = outcome.metadata.get("partitions")
            if parts is not None:
                metadata: dict[str, Any] = {
                    "partitions": {
                        k: self.publish(m, first_attempt=first) for k, m in parts.items()
                    }
                }
            else:
                metadata = self.publish(outcome.metadata, first_attempt=first)
        except (OSError, LegatoError, KeyError, TypeError) as exc:
            return replace(outcome, ok=False, error=describe_error(exc))
        return replace(outcome, metadata=metadata)


def _has_stage(metadata: Mapping[str, Any]) -> bool:
    parts = metadata.get("partitions")
    if isinstance(parts, Mapping):
        return any(isinstance(m, Mapping) and "staged" in m for m in parts.values())
    return "staged" in metadata
