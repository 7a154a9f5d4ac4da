"""What a finished step records besides its status: the materializations of an asset, and the
result of a check, an event on the materialization it checked."""

from __future__ import annotations

from typing import Any

from legato.definitions.keys import StepKey
from legato.events.status import StepStatus
from legato.events.types import Event, EventType
from legato.execution.engine_parts import EngineParts
from legato.execution.spec import StepOutcome
from legato.store.assets import latest_materializations, materialized_at


class Outcomes(EngineParts):
    _made_at: dict[tuple[str, str], float]  # (asset, partition) → when this run materialized it

    def _record_outputs(self, outcome: StepOutcome, ended: float) -> None:
        """A succeeded step's materializations (one per key of a single-run step), or its
        check's result."""
        key = outcome.step
        kind = self.graph[key.node].step.kind
        if kind == "check":
            self._record_check(outcome, ended)
        elif key in self._ranged:
            for part, meta in outcome.metadata.get("partitions", {}).items():
                self._materialized(outcome, ended, part, meta)
        elif kind == "asset":
            self._materialized(outcome, ended, key.partition, dict(outcome.metadata))

    def _materialized(
        self, outcome: StepOutcome, ended: float, partition: str, metadata: dict[str, Any]
    ) -> None:
        data = {"asset_key": outcome.step.node, "partition": partition, "metadata": metadata}
        self._made_at[(outcome.step.node, partition)] = ended
        self._emit(
            Event(
                EventType.MATERIALIZED,
                self.run_id,
                str(outcome.step),
                outcome.attempt,
                ended,
                None,
                data,
            )
        )

    def _record_check(self, outcome: StepOutcome, ended: float) -> None:
        """A check's result (a failed attempt's error as a failure), with the run of the
        materialization it checked: this run's, an earlier run's that a re-run reused, or the
        latest stored one for a check run on its own."""
        info = self.graph[outcome.step.node].step.check
        assert info is not None
        result = outcome.metadata.get("check")
        if result is None:  # the check itself raised
            error = outcome.error.message if outcome.error is not None else "it failed"
            result = {
                "outcome": "fail",
                "passed": False,
                "severity": "error",
                "metadata": {"error": error[:2000]},
                "description": None,
            }
        target = StepKey(info.asset, outcome.step.partition)
        data = {
            "asset_key": info.asset,
            "partition": target.partition,
            "check": outcome.step.node,
            "blocking": info.blocking,
            "target_run": self._checked_run(target),
            **result,
        }
        self._emit(
            Event(
                EventType.CHECK_EVALUATED,
                self.run_id,
                str(outcome.step),
                outcome.attempt,
                ended,
                None,
                data,
            )
        )

    def _checked_run(self, asset: StepKey) -> str | None:
        producer = self._producer_here(asset)
        if producer is not None:
            return self.state.run_of(producer, self.run_id)
        found = latest_materializations(self.store, asset.node, asset.partition)
        return found[0].run_id if found else None

    def _producer_here(self, asset: StepKey) -> StepKey | None:
        """The step of this run's plan that makes ``asset`` (its key, or a single-run step that
        makes it with others); None if the run reads it from the store."""
        producer = asset if asset in self._planned else None
        for ranged in self._ranged:
            if (
                ranged.node == asset.node
                and asset.partition in self._planned[ranged].partition_keys
            ):
                producer = ranged
        return producer

    def _checked_at(self, check: StepKey) -> float | None:
        """When the materialization that ``check`` judges was made (what ``_checked_run``
        names): known here if this run made it, else read from the store."""
        info = self.graph[check.node].step.check
        assert info is not None
        made = self._made_at.get((info.asset, check.partition))
        if made is not None:
            return made
        target = StepKey(info.asset, check.partition)
        producer = self._producer_here(target)
        if producer is None:  # judged alone: its latest materialization, read once
            found = latest_materializations(self.store, target.node, target.partition)
            return found[0].ts if found else None
        run = self.state.run_of(producer, self.run_id)  # reused from an earlier run
        return (
            None if run is None else materialized_at(self.store, target.node, target.partition, run)
        )

    def _skip_reason(self, because: StepKey) -> str:
        info = self.graph[because.node].step.check
        if info is not None and self.state[because].status is StepStatus.FAILED:
            return f"blocking check {because.node} failed on {info.asset}"
        return f"upstream {because} did not succeed"
