"""RunResult: what a run did, with access to the values its steps produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from legato.definitions.keys import StepKey
from legato.events.status import RunStatus, StepStatus
from legato.events.types import EventType
from legato.store.engine import Store
from legato.store.runs import StepRecord, get_events, get_steps


@dataclass
class RunResult:
    """What a run did: its status, steps, events, and access to its outputs."""

    run_id: str
    status: RunStatus
    store: Store
    _load: Any = field(repr=False, default=None)

    @cached_property
    def steps(self) -> dict[str, StepRecord]:
        """Every step of the run by step key (read from the store on first use)."""
        return {s.step_key: s for s in get_steps(self.store, self.run_id)}

    @property
    def success(self) -> bool:
        return self.status is RunStatus.SUCCEEDED

    @property
    def events(self) -> list[dict[str, Any]]:
        return get_events(self.store, self.run_id)

    def output(self, key: str) -> Any:
        """The value step ``key`` produced in this run (``"node"``, ``"node[p]"`` or ``"node#3"``)."""
        record = self.steps.get(key)
        if record is None:
            raise KeyError(f"run {self.run_id} has no step {key!r}; steps: {sorted(self.steps)}")
        if not record.status.ok:
            raise KeyError(
                f"step {key!r} of run {self.run_id} is {record.status}, so it has no output"
            )
        return self._load(StepKey.parse(key), record)

    @property
    def outputs(self) -> dict[str, Any]:
        """Every successful top-level step's value, by step key (checks have none)."""
        return {
            k: self.output(k)
            for k, r in self.steps.items()
            if r.status.ok and r.map_index < 0 and r.kind != "check"
        }

    @property
    def checks(self) -> dict[str, dict[str, Any]]:
        """Each check step's result in this run, by step key: ``outcome`` (``pass``, ``warn``
        or ``fail``), ``passed``, ``severity``, ``blocking``, ``metadata``."""
        return {e["step"]: e["data"] for e in self.events if e["type"] == EventType.CHECK_EVALUATED}

    def failures(self) -> dict[str, Any]:
        return {k: r.error for k, r in self.steps.items() if r.status is StepStatus.FAILED}
