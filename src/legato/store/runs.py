"""Runs and steps: create (with an idempotency key, and the run's facets), read, list with
filters and a cursor (``legato.store.run_search`` says which runs a list shows), and ask a run to
stop. The lease of the process executing a run is in ``legato.store.run_leases``."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from legato.errors import NotFoundError
from legato.events.status import RunStatus, StepStatus
from legato.events.transitions import next_run_status
from legato.events.types import Event, EventType
from legato.store import schema
from legato.store.engine import Store
from legato.store.event_log import append, upsert
from legato.store.notify import RUN_QUEUED_CHANNEL, notify
from legato.store.run_facets import add_node_facets, add_run_facets
from legato.store.run_search import Cursor, RunFilter, runs_query


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    selection: str
    status: RunStatus
    created_at: float
    pipeline: str | None = None
    partition: str = ""
    started_at: float | None = None
    ended_at: float | None = None
    parent_run_id: str | None = None
    idempotency_key: str | None = None
    executor: str = ""  # "" = the project's default executor
    tags: Mapping[str, str] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    error: Any = None
    priority: int = 0
    trigger: str = "manual"
    from_failure: bool = False
    backfill_id: str | None = None
    launcher: str | None = None  # the process that claimed the run to execute it
    lease_until: float | None = None  # its claim expires then unless renewed

    @property
    def duration(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.ended_at or time.time()) - self.started_at


@dataclass(frozen=True)
class StepRecord:
    run_id: str
    step_key: str
    node: str
    partition: str
    map_index: int
    kind: str
    status: StepStatus
    attempt: int
    started_at: float | None
    ended_at: float | None
    reused_from: str | None
    error: Any


@dataclass(frozen=True)
class NewStep:
    step_key: str
    node: str
    kind: str
    partition: str = ""
    map_index: int = -1


def create_run(store: Store, run: RunRecord, steps: Sequence[NewStep] = ()) -> tuple[str, bool]:
    """Insert a queued run and its pending steps in one transaction (a run is asked for through
    ``legato.store.run_requests``, which makes the record and its bounded key).

    A run with a ``launcher`` and ``lease_until`` is claimed by that process as it is created, so
    no daemon's run queue ever takes it; recovery takes it over only once the lease expires.

    Returns ``(run_id, created)``. If a run with the same idempotency key exists, nothing is written
    and that run's id is returned with ``created=False``.
    """
    with store.transaction() as conn:
        return insert_run(conn, run, steps)


def insert_run(conn: Connection, run: RunRecord, steps: Sequence[NewStep] = ()) -> tuple[str, bool]:
    """``create_run`` inside the caller's transaction (so a trigger can commit its cursor with it).

    The insert is ``ON CONFLICT DO NOTHING`` on the idempotency key, so a duplicate never aborts
    the surrounding transaction.
    """
    values = _run_values(run)
    if values["idempotency_key"] is None:
        conn.execute(insert(schema.runs).values(**values))
    else:
        stmt = upsert(conn.dialect.name, schema.runs).values(**values)
        stmt = stmt.on_conflict_do_nothing(index_elements=["idempotency_key"])
        if conn.execute(stmt.returning(schema.runs.c.run_id)).first() is None:
            existing = conn.execute(
                select(schema.runs.c.run_id).where(
                    schema.runs.c.idempotency_key == values["idempotency_key"]
                )
            ).scalar_one()
            return str(existing), False
    add_run_facets(conn, [{**values, "tags": run.tags}], {run.run_id: {s.node for s in steps}})
    _insert_steps(conn, run.run_id, steps)
    if run.status is RunStatus.QUEUED and run.launcher is None:
        notify(conn, RUN_QUEUED_CHANNEL)
    return run.run_id, True


def insert_runs(conn: Connection, runs: Sequence[RunRecord]) -> list[str]:
    """Insert many runs, each with an idempotency key, in the caller's transaction with one
    batched statement; return each run's id in order (the existing run's id for a key already
    used, so a duplicate request is answered with the run it made before)."""
    if not runs:
        return []
    rows = [_run_values(run) for run in runs]
    if any(row["idempotency_key"] is None for row in rows):
        raise ValueError("insert_runs needs an idempotency key on every run")
    c = schema.runs.c
    stmt = upsert(conn.dialect.name, schema.runs).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    )
    # the rows inserted say so; only keys used before are looked up (a second round trip)
    inserted = conn.execute(stmt.returning(c.idempotency_key, c.run_id), rows)
    ids = {str(key): str(run_id) for key, run_id in inserted}
    keys = [row["idempotency_key"] for row in rows]
    taken = [key for key in keys if key not in ids]
    for start in range(0, len(taken), 500):  # bounded IN lists
        found = conn.execute(
            select(c.idempotency_key, c.run_id).where(
                c.idempotency_key.in_(taken[start : start + 500])
            )
        )
        ids.update({str(key): str(run_id) for key, run_id in found})
    made = [  # a key another transaction used first has that transaction's run and facets
        {**row, "tags": run.tags}
        for row, run in zip(rows, runs, strict=True)
        if ids[row["idempotency_key"]] == run.run_id
    ]
    add_run_facets(conn, made)
    if any(run.status is RunStatus.QUEUED and run.launcher is None for run in runs):
        notify(conn, RUN_QUEUED_CHANNEL)
    return [ids[key] for key in keys]


def _run_values(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "pipeline": run.pipeline,
        "selection": run.selection,
        "partition": run.partition,
        "status": run.status.value,
        "created_at": run.created_at,
        "parent_run_id": run.parent_run_id,
        "idempotency_key": run.idempotency_key,
        "executor": run.executor,
        "tags": dict(run.tags),
        "config": dict(run.config),
        "priority": run.priority,
        "trigger": run.trigger,
        "from_failure": bool(run.from_failure),
        "backfill_id": run.backfill_id,
        "launcher": run.launcher,
        "lease_until": run.lease_until,
    }


def add_steps(
    conn: Connection, run_id: str, steps: Sequence[NewStep], *, created_at: float | None = None
) -> None:
    """Insert pending steps (also used when a dynamic fan-out learns its items), with the facets
    of their nodes; ``created_at``, the run's, saves reading it."""
    if steps:
        add_node_facets(conn, run_id, {s.node for s in steps}, created_at)
        _insert_steps(conn, run_id, steps)


def _insert_steps(conn: Connection, run_id: str, steps: Sequence[NewStep]) -> None:
    if steps:
        conn.execute(
            insert(schema.steps),
            [
                {
                    "run_id": run_id,
                    "step_key": s.step_key,
                    "node": s.node,
                    "partition": s.partition,
                    "map_index": s.map_index,
                    "kind": s.kind,
                    "status": StepStatus.PENDING.value,
                    "attempt": 0,
                }
                for s in steps
            ],
        )


def get_run(store: Store, run_id: str) -> RunRecord:
    """The run with this id, or the only run whose id starts with it (at least 6 characters)."""
    if not isinstance(run_id, str) or not run_id or len(run_id) > 40:
        raise NotFoundError(
            f"no run {run_id!r}", obj=str(run_id), hint="run 'legato runs' to list runs"
        )
    with store.read() as conn:
        row = conn.execute(select(schema.runs).where(schema.runs.c.run_id == run_id)).first()
        if row is None and len(run_id) >= 6:
            escaped = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            found = conn.execute(
                select(schema.runs)
                .where(schema.runs.c.run_id.like(escaped + "%", escape="\\"))
                .limit(2)
            ).all()
            if len(found) > 1:
                raise NotFoundError(
                    f"run id prefix {run_id!r} is ambiguous",
                    obj=run_id,
                    hint="type more characters of the run id",
                )
            row = found[0] if found else None
    if row is None:
        raise NotFoundError(f"no run {run_id!r}", obj=run_id, hint="run 'legato runs' to list runs")
    return run_from_row(row)


def get_runs(store: Store, run_ids: Sequence[str]) -> list[RunRecord]:
    """The runs with these ids, in the order given (ids of no run are left out)."""
    found: dict[str, RunRecord] = {}
    with store.read() as conn:
        for start in range(0, len(run_ids), 500):  # bounded IN lists
            chunk = run_ids[start : start + 500]
            query = select(schema.runs).where(schema.runs.c.run_id.in_(chunk))
            found.update((row.run_id, run_from_row(row)) for row in conn.execute(query))
    return [found[run_id] for run_id in run_ids if run_id in found]


def list_runs(
    store: Store,
    where: RunFilter | None = None,
    *,
    limit: int = 50,
    before: Cursor | None = None,
) -> list[RunRecord]:
    """Runs matching ``where``, newest first; ``before`` is the (created_at, run_id) cursor of
    the last row seen."""
    with store.read() as conn:
        rows = conn.execute(runs_query(conn, where or RunFilter(), limit=limit, before=before))
        return [run_from_row(row) for row in rows]


def has_steps(store: Store, run_id: str) -> bool:
    """Whether the run's steps are recorded (a run queued by a trigger gets them when it starts)."""
    probe = select(schema.steps.c.step_key).where(schema.steps.c.run_id == run_id).limit(1)
    with store.read() as conn:
        return conn.execute(probe).first() is not None


def get_steps(store: Store, run_id: str) -> list[StepRecord]:
    with store.read() as conn:
        rows = conn.execute(select(schema.steps).where(schema.steps.c.run_id == run_id)).all()
    return [
        StepRecord(
            row.run_id,
            row.step_key,
            row.node,
            row.partition,
            row.map_index,
            row.kind,
            StepStatus(row.status),
            row.attempt,
            row.started_at,
            row.ended_at,
            row.reused_from,
            row.error,
        )
        for row in rows
    ]


def get_events(
    store: Store, run_id: str, after_id: int = 0, *, limit: int | None = None
) -> list[dict[str, Any]]:
    """A run's events with id > ``after_id``, oldest first; at most ``limit`` when given."""
    e = schema.events.c
    query = select(schema.events).where(e.run_id == run_id, e.id > after_id).order_by(e.id)
    if limit is not None:
        query = query.limit(limit)
    with store.read() as conn:
        rows = conn.execute(query).all()
    return [
        {
            "id": row.id,
            "type": row.type,
            "step": row.step_key,
            "ts": row.ts,
            "attempt": row.attempt,
            "status": row.status,
            "data": row.data,
        }
        for row in rows
    ]


def skip_reasons(store: Store, run_id: str) -> dict[str, str]:
    """Why each skipped step of a run was skipped (a blocking check that failed, an upstream
    step that did not succeed), by step key."""
    e = schema.events.c
    query = select(e.step_key, e.data).where(
        e.run_id == run_id, e.type == EventType.STEP_SKIPPED.value
    )
    with store.read() as conn:
        return {
            row.step_key: str((row.data or {}).get("reason", "")) for row in conn.execute(query)
        }


def run_from_row(row: Row[Any]) -> RunRecord:
    return RunRecord(
        run_id=row.run_id,
        selection=row.selection,
        status=RunStatus(row.status),
        created_at=row.created_at,
        pipeline=row.pipeline,
        partition=row.partition,
        started_at=row.started_at,
        ended_at=row.ended_at,
        parent_run_id=row.parent_run_id,
        idempotency_key=row.idempotency_key,
        executor=row.executor,
        tags=row.tags or {},
        config=row.config or {},
        error=row.error or None,
        priority=row.priority,
        trigger=row.trigger,
        from_failure=bool(row.from_failure),
        backfill_id=row.backfill_id,
        launcher=row.launcher,
        lease_until=row.lease_until,
    )


def recorded_length(store: Store, run_id: str, step_key: str, key: str = "length") -> int:
    """The list length (or fan-out item ``count``) a step recorded when it succeeded in ``run_id``."""
    e = schema.events.c
    with store.read() as conn:
        row = conn.execute(
            select(e.data)
            .where(e.run_id == run_id, e.step_key == step_key, e.type == "step_succeeded")
            .order_by(e.id.desc())
            .limit(1)
        ).first()
    data = row[0] if row else None
    if not data or key not in data:
        raise NotFoundError(
            f"run {run_id} recorded no list length for step {step_key!r}",
            obj=step_key,
            hint="rerun without --from-failure",
        )
    return int(data[key])


def request_cancel(store: Store, run_id: str) -> RunRecord:
    """Ask a run to stop. A queued run is cancelled at once; a running one is marked canceling and
    its engine stops it within a second. Raises IllegalTransition if the run already finished."""
    record = get_run(store, run_id)
    event = (
        EventType.RUN_CANCELLED if record.status is RunStatus.QUEUED else EventType.RUN_CANCELING
    )
    status = next_run_status(record.status, event)
    with store.transaction() as conn:
        append(conn, [Event(event, record.run_id, ts=time.time(), status=status.value)])
    return get_run(store, record.run_id)
