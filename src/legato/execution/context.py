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
    """

    run_id: str
    step: StepKey
    attempt: int
    run_config: Mapping[str, Any] = field(default_factory=dict)
    resources: Mapping[str, Any] = field(default_factory=dict)
    partition_keys: tuple[str, ...] = ()

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

    @property
    def idempotency_key(self) -> str:
        """Stable across retries of this step in this run: use it to make side effects idempotent."""
        return f"{self.run_id}:{self.step}"
