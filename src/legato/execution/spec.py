"""What crosses the executor boundary: the spec of one step attempt and its outcome. Picklable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from legato.definitions.keys import StepKey
from legato.execution.capture import LogRecordTuple


@dataclass(frozen=True)
class InputRef:
    """Where a step input comes from.

    ``asset_key`` set: the asset's stored value. Otherwise the result of ``step`` in ``run_id``;
    ``item`` ≥ 0 takes one element of that list; ``item_runs`` collects the results of the mapped
    items ``step#0, step#1, …`` into a list, item ``i`` produced by run ``item_runs[i]`` (a re-run
    reuses the items that succeeded before). ``partitions`` set: the input is ``{key: value}`` for
    those partition keys of ``step.node`` (key ``i`` produced by run ``partition_runs[i]`` for
    tasks); with ``min_count``, keys without a value are left out if at least that many remain;
    with ``required``, keys after the first ``required`` are left out when they have no value.
    """

    run_id: str
    step: StepKey
    asset_key: str | None = None
    item: int = -1
    item_runs: tuple[str, ...] | None = None
    partitions: tuple[str, ...] | None = None
    partition_runs: tuple[str, ...] = ()
    min_count: int | None = None
    required: int | None = None


@dataclass(frozen=True)
class StepSpec:
    run_id: str
    step: StepKey
    attempt: int
    inputs: Mapping[str, InputRef] = field(default_factory=dict)
    timeout: float | None = None
    run_config: Mapping[str, Any] = field(default_factory=dict)
    report_length: bool = False  # a downstream step maps over this result
    partition_keys: tuple[str, ...] = ()  # a single-run step: it returns {key: value} for these
    # Set: values are written under this token and put in place by the engine that holds the run
    # (an attempt that lost its run can never overwrite the value of the one that replaced it).
    stage: str = ""
    # A task result whose stored form is at most this many bytes comes back in the outcome
    # (``metadata["inline"]``) for the engine to append to the run's result log (0: never).
    inline: int = 0
    # A check: when the materialization it judges was made (epoch seconds; None if unknown).
    target_materialized_at: float | None = None


@dataclass(frozen=True)
class StepError:
    type: str
    message: str
    traceback: str
    types: tuple[str, ...]  # qualified names of the exception's classes, for retry_on

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "message": self.message, "traceback": self.traceback}


@dataclass(frozen=True)
class StepOutcome:
    step: StepKey
    attempt: int
    ok: bool
    duration: float = 0.0  # seconds the attempt ran, on a monotonic clock where it ran
    error: StepError | None = None
    length: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    logs: list[LogRecordTuple] = field(default_factory=list)
    # When the attempt began to execute (wall clock where it ran); 0 when it never did (an
    # executor reporting a timeout or a lost worker).
    started_at: float = 0.0


@dataclass(frozen=True)
class LogChunk:
    """Lines a still-running step has printed so far (streamed by out-of-process executors)."""

    step: StepKey
    attempt: int
    logs: list[LogRecordTuple]
