"""Fencing: a run's values are published only by the engine that holds its lease (``leases``).

Values of the default IO manager are staged under the attempt by whatever process ran the step;
the engine moves them into place after checking that the run is still its own, so an attempt
that lost its run (a paused worker, an engine cut off from the store) never overwrites the value
of the attempt that replaced it. Small task results come back inline in their outcomes: the
engine appends those of one batch of outcomes to the run's result log in one write, before the
commit that records their steps as succeeded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

from legato.definitions.keys import StepKey
from legato.errors import LegatoError
from legato.execution.leases import Leases
from legato.execution.spec import LogChunk, StepOutcome
from legato.execution.step import describe_error

_PUBLISH_ERRORS = (OSError, LegatoError, KeyError, TypeError)


class Publisher(Protocol):
    """Where staged values are put in place (the filesystem IO manager of the storage root)."""

    def publish(
        self, metadata: Mapping[str, Any], *, first_attempt: bool = False
    ) -> dict[str, Any]:
        """Move a staged value into place; its metadata there. ``first_attempt``: no earlier
        attempt of the step in this run can have put a value at its place."""
        ...

    def append_results(self, run_id: str, results: Sequence[tuple[StepKey, bytes]]) -> None:
        """Append inline task results of ``run_id`` to its result log, in one write."""
        ...


class Fencing(Leases):
    publish: Publisher | None

    def _published(
        self, messages: Sequence[StepOutcome | LogChunk]
    ) -> Sequence[StepOutcome | LogChunk] | None:
        """``messages`` with the staged values of their succeeded attempts put in place, if this
        engine still holds the run (None if it does not); an attempt whose value cannot be
        published fails."""
        staged = [
            m for m in messages if isinstance(m, StepOutcome) and m.ok and _has_stage(m.metadata)
        ]
        if self.publish is None or not staged:
            return messages
        if not self._holds_lease():
            self._lease_lost.set()
            return None
        inline: list[tuple[StepKey, bytes]] = []
        done: dict[int, StepOutcome] = {}
        for outcome in staged:
            try:
                done[id(outcome)] = self._publish_one(outcome, inline)
            except _PUBLISH_ERRORS as exc:
                done[id(outcome)] = replace(outcome, ok=False, error=describe_error(exc))
        if inline:
            try:
                self.publish.append_results(self.run_id, inline)
            except _PUBLISH_ERRORS as exc:  # none of the batch's inline values is stored
                for outcome in staged:
                    if _has_inline(outcome.metadata):
                        done[id(outcome)] = replace(outcome, ok=False, error=describe_error(exc))
        return [done.get(id(m), m) for m in messages]

    def _publish_one(
        self, outcome: StepOutcome, inline: list[tuple[StepKey, bytes]]
    ) -> StepOutcome:
        """``outcome`` with its staged files in place and its inline values added to ``inline``."""
        assert self.publish is not None
        # Attempt numbers are never reused (a resumed run retries a lost attempt as the next
        # one), so attempt 1 is the first to publish at its place in this run.
        first = outcome.attempt == 1
        publish = self.publish.publish

        def put(step: StepKey, metadata: Mapping[str, Any]) -> dict[str, Any]:
            if "inline" in metadata:
                out = dict(metadata)
                inline.append((step, out.pop("inline")))
                return out
            return publish(metadata, first_attempt=first)

        parts = outcome.metadata.get("partitions")
        if parts is not None:
            key = outcome.step
            metadata: dict[str, Any] = {
                "partitions": {k: put(key._replace(partition=k), m) for k, m in parts.items()}
            }
        else:
            metadata = put(outcome.step, outcome.metadata)
        return replace(outcome, metadata=metadata)


def _has_stage(metadata: Mapping[str, Any]) -> bool:
    parts = metadata.get("partitions")
    if isinstance(parts, Mapping):
        return any(
            isinstance(m, Mapping) and ("staged" in m or "inline" in m) for m in parts.values()
        )
    return "staged" in metadata or "inline" in metadata


def _has_inline(metadata: Mapping[str, Any]) -> bool:
    parts = metadata.get("partitions")
    if isinstance(parts, Mapping):
        return any(isinstance(m, Mapping) and "inline" in m for m in parts.values())
    return "inline" in metadata
