"""Requesting runs: the one way a schedule, a sensor, a message, a webhook, a backfill, the API or
the CLI asks for a run.

Each describes what it wants as a :class:`NewRun`; :func:`run_record` turns that into the queued
:class:`RunRecord` (a new id, the idempotency key made by ``run_request_key``, the trigger
bounded to its column) and :func:`request_run` records it, idempotent by its key. Keys are the
strings earlier versions stored (``tick:<trigger>:<time>``, ``<kind>:<trigger>:<key>``,
``msg:<source>:<id>``, ``webhook:<trigger>:<delivery>``, ``backfill:<id>:<group>:<attempt>``),
so a daemon upgraded mid-schedule asks for no tick twice.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from legato._internal.ids import bounded_key, new_run_id, run_request_key
from legato.definitions.pipeline import Pipeline
from legato.events.status import RunStatus
from legato.graph.run_config import check_run_config, merge_config
from legato.graph.snapshot import PipelineSnapshot
from legato.store.engine import Store
from legato.store.runs import NewStep, RunRecord, insert_run, insert_runs
from legato.store.schema import TRIGGER_LENGTH

# Who may ask for a run: the first part of a run's ``trigger`` column.
REQUESTERS = (
    "schedule",
    "sensor",
    "file_arrival",
    "on_update",
    "message",
    "webhook",
    "backfill",
    "api",
    "cli",
    "manual",
)


@dataclass(frozen=True)
class NewRun:
    """A run someone asks for, before it is recorded.

    Args:
        selection: what to run (a selection string).
        trigger: who asks: one of ``REQUESTERS``.
        trigger_id: which one of them (a trigger's id, a backfill's id, the API caller's name);
            the run's ``trigger`` is ``<trigger>:<trigger_id>``, or ``<trigger>`` without one.
        key: the parts of the idempotency key; none: every request makes a run.
        config: the run config; each step with a config model reads it under its key.
        config_schema: the JSON Schema of the run's config (see ``graph/run_config.py``):
            ``config`` is checked against it here, so a run that cannot start is never
            recorded (``RunConfigError``). None: nothing to check but finite numbers.
        launcher, lease_until: the process that executes the run at once, claiming it as it is
            recorded, and until when (no run queue takes it meanwhile).
    """

    selection: str
    trigger: str = "manual"
    trigger_id: str = ""
    key: tuple[str, ...] = ()
    pipeline: str | None = None
    partition: str = ""
    config: Mapping[str, Any] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    priority: int = 0
    executor: str = ""  # "": the project's default executor
    parent_run_id: str | None = None
    from_failure: bool = False
    backfill_id: str | None = None
    launcher: str | None = None
    lease_until: float | None = None
    config_schema: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.selection, str) or not self.selection.strip():
            raise ValueError(f"a run request needs a selection, not {self.selection!r}")
        if self.trigger not in REQUESTERS:
            raise ValueError(
                f"a run request from {self.trigger!r}: the trigger must be one of {REQUESTERS}"
            )
        if not all(isinstance(part, str) for part in self.key):
            raise ValueError(f"idempotency key parts must be strings, not {self.key!r}")
        if not isinstance(self.partition, str):
            raise ValueError(f"a run's partition is a string, not {self.partition!r}")
        if not isinstance(self.config, Mapping) or not all(isinstance(k, str) for k in self.config):
            raise ValueError(f"run config must map strings to values, not {self.config!r}")
        check_run_config(self.config_schema, self.config)
        if not isinstance(self.tags, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.tags.items()
        ):
            raise ValueError(f"run tags must map strings to strings, not {self.tags!r}")
        if not isinstance(self.priority, int) or isinstance(self.priority, bool):
            raise ValueError(f"a run's priority is a whole number, not {self.priority!r}")

    @classmethod
    def of_pipeline(
        cls,
        pipeline: Pipeline | PipelineSnapshot,
        *,
        selection: str | None = None,
        tags: Mapping[str, str] | None = None,
        **fields: Any,
    ) -> NewRun:
        """A run of ``pipeline`` (the definition, or its snapshot description) with its defaults:
        its selection unless ``selection`` is given, its executor and priority, its tags with
        ``tags`` over them and its config with ``config`` over it. A snapshot's description
        also gives the schema of its selection's config."""
        defaults: dict[str, Any] = {
            "pipeline": pipeline.name,
            "selection": selection or " ".join(pipeline.selection or ["*"]),
            "executor": pipeline.executor or "",
            "priority": pipeline.priority,
            "tags": {**pipeline.tags, **(tags or {})},
            "config": merge_config(pipeline.config, fields.pop("config", {})),
        }
        if not selection and isinstance(pipeline, PipelineSnapshot):
            defaults["config_schema"] = pipeline.config_schema  # its own selection's
        return cls(**(defaults | fields))

    @property
    def idempotency_key(self) -> str | None:
        return run_request_key(*self.key) if self.key else None


def run_record(request: NewRun, *, now: float | None = None) -> RunRecord:
    """The queued run ``request`` asks for, with a new id (``now``: when it was asked)."""
    trigger = f"{request.trigger}:{request.trigger_id}" if request.trigger_id else request.trigger
    return RunRecord(
        run_id=new_run_id(),
        selection=request.selection,
        status=RunStatus.QUEUED,
        created_at=time.time() if now is None else now,
        pipeline=request.pipeline,
        partition=request.partition,
        parent_run_id=request.parent_run_id,
        idempotency_key=request.idempotency_key,
        executor=request.executor,
        tags=dict(request.tags),
        config=dict(request.config),
        priority=request.priority,
        trigger=bounded_key(trigger, TRIGGER_LENGTH),
        from_failure=request.from_failure,
        backfill_id=request.backfill_id,
        launcher=request.launcher,
        lease_until=request.lease_until,
    )


def request_run(store: Store, request: NewRun, steps: Sequence[NewStep] = ()) -> tuple[str, bool]:
    """Record the queued run ``request`` asks for (with ``steps`` when already planned) in one
    transaction; ``(run_id, created)``: ``created`` is False when a run with its key exists, whose
    id is returned and nothing is written."""
    with store.transaction() as conn:
        return request_run_in(conn, request, steps)


def request_run_in(
    conn: Connection, request: NewRun, steps: Sequence[NewStep] = ()
) -> tuple[str, bool]:
    """:func:`request_run` inside the caller's transaction (to commit a cursor, a tick or an
    audit entry with the run)."""
    return insert_run(conn, run_record(request), steps)


def request_runs_in(conn: Connection, requests: Sequence[NewRun]) -> list[str]:
    """Record many runs, each with an idempotency key, with one batched statement in the caller's
    transaction; each one's run id in order (the existing run's for a key already used)."""
    return insert_runs(conn, [run_record(request) for request in requests])
