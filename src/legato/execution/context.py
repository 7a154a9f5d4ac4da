"""StepContext: what a step function receives when it has a ``context`` parameter."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from legato.definitions.keys import StepKey


@dataclass(frozen=True)
class StepContext:
    """The running step's identity, configuration, resources and logger.

    Attributes:
        run_id: the run this step belongs to.
        step: the step key (node, partition key, mapped index).
        attempt: 1 for the first attempt, 2 for the first retry, …
        run_config: configuration given when the run was launched.
        resources: configured resources by name.
        log: a logger whose records go to this step's logs.
        metadata: what ``add_metadata`` recorded for this step's materialization.
        target_materialized_at: in a check, when the materialization it judges was made (epoch
            seconds): right before it in its own run, or earlier when it runs alone.
    """

    run_id: str
    step: StepKey
    attempt: int
    run_config: Mapping[str, Any] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)
    partition_keys: tuple[str, ...] = ()
    target_materialized_at: float | None = None
    _metadata: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.partition_keys and self.step.partition:
            object.__setattr__(self, "partition_keys", (self.step.partition,))

    @property
    def partition_key(self) -> str:
        """This step's partition key ("" when unpartitioned; the range for a single-run step)."""
        return self.step.partition

    @property
    def map_index(self) -> int:
        return self.step.map_index

    @property
    def log(self) -> logging.Logger:
        logger = logging.getLogger(f"legato.step.{self.step.node}")
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
        return logger

    def add_metadata(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        """Record numbers and facts with this step's materialization, e.g.
        ``context.add_metadata(rows=len(kept), dropped=n)``. They are kept with the ones Legato
        measures (``rows``, ``bytes``, ``schema_hash``) and win over them."""
        self._metadata.update(values or {})
        self._metadata.update(more)

    @property
    def metadata(self) -> dict[str, Any]:
        """What ``add_metadata`` recorded so far."""
        return dict(self._metadata)

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of this step in this run: use it to make side effects idempotent."""
        return f"{self.run_id}:{self.step}"
