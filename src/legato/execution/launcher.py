"""Launching runs: record a queued run, plan it, hand it to an executor, collect the result.

``queue_run`` writes the request (idempotent by key); ``execute_run`` executes a queued run in this
process; ``launch_run`` does both, claiming the run for this process as it records it, so that a
daemon's run queue beside it never takes the run. The daemon and backfills use the two halves
separately.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from legato.definitions.io import IOContext
from legato.definitions.keys import StepKey
from legato.definitions.pipeline import Pipeline
from legato.definitions.policies import Retry
from legato.definitions.project import Project
from legato.errors import LegatoError
from legato.events.status import RunStatus
from legato.execution.capture import capturing
from legato.execution.engine import OnEvents, RunEngine
from legato.execution.executors.base import Executor, ExecutorSetup
from legato.execution.executors.pool_gate import PoolGate
from legato.execution.inputs import allows_untrusted
from legato.execution.io.fs import FilesystemIOManager
from legato.execution.io.memory import MemoryIOManager
from legato.execution.io.signing import load_key
from legato.execution.result import RunResult
from legato.graph.graph import Graph
from legato.graph.plan import Plan, plan_rerun, plan_run
from legato.graph.run_config import graph_config_schema
from legato.graph.select import select
from legato.graph.waves import widest_wave
from legato.store.engine import Store
from legato.store.partitions import dynamic_lookup
from legato.store.run_requests import NewRun, request_run
from legato.store.runs import (
    NewStep,
    RunRecord,
    StepRecord,
    add_steps,
    get_run,
    get_steps,
    has_steps,
)

LEASE_SECONDS = 30.0  # a run's claim lasts this long unless its engine renews it


def new_launcher() -> str:
    """A lease holder's name for this process (``host:pid:random``, as hosts and pids repeat)."""
    return f"{socket.gethostname()[:50]}:{os.getpid()}:{secrets.token_hex(3)}"


def queue_run(
    store: Store,
    graph: Graph,
    selection: str | Iterable[str],
    *,
    plan: Plan,
    executor: str = "process",
    pipeline: Pipeline | None = None,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    parent_run_id: str | None = None,
    idempotency_key: str | None = None,
    backfill_id: str | None = None,
    trigger: str = "manual",
    priority: int = 0,
    launcher: str | None = None,
) -> tuple[str, bool]:
    """Record a queued run with its planned steps; ``(run_id, created)`` (False: key existed).
    ``run_config`` is checked against the config models of the planned steps first.

    With ``launcher`` the run is recorded already claimed by that process (for ``LEASE_SECONDS``,
    renewed by its engine): no run queue takes it, and if the process dies, recovery does.
    """
    kind, _, asker = trigger.partition(":")
    asked: dict[str, Any] = {
        "selection": selection if isinstance(selection, str) else " ".join(selection),
        "partition": plan.partition,
        "parent_run_id": parent_run_id,
        "key": () if idempotency_key is None else (idempotency_key,),
        "executor": executor,
        "tags": tags or {},
        "config": run_config or {},
        "priority": priority,
        "trigger": kind,
        "trigger_id": asker,
        "from_failure": bool(plan.reused),
        "backfill_id": backfill_id,
        "launcher": launcher,
        "lease_until": time.time() + LEASE_SECONDS if launcher else None,
        "config_schema": graph_config_schema(graph, plan.nodes),
    }
    request = NewRun.of_pipeline(pipeline, **asked) if pipeline else NewRun(**asked)
    return request_run(store, request, planned_steps(graph, plan))


def planned_steps(graph: Graph, plan: Plan) -> list[NewStep]:
    return [
        NewStep(str(p.key), p.key.node, graph[p.key.node].step.kind, p.key.partition)
        for p in plan.steps
    ]


def plan_queued(store: Store, graph: Graph, record: RunRecord) -> Plan:
    """The plan of a queued run: its selection and keys, or its parent's failures for a rerun."""
    if record.parent_run_id and record.from_failure:
        return rerun_plan(store, graph, record.parent_run_id)[1]
    dynamic = dynamic_lookup(store)
    return plan_run(
        graph, select(graph, record.selection), partitions=record.partition, dynamic=dynamic
    )


def execute_run(
    project: Project,
    graph: Graph,
    store: Store,
    run: str | RunRecord,
    *,
    plan: Plan | None = None,
    storage_root: Path | None,
    executor: Executor,
    pipeline: Pipeline | None = None,
    max_concurrency: int | None = None,
    default_retry: Retry | None = None,
    on_events: OnEvents | None = None,
    sys_path: tuple[str, ...] = (),
    memory_io: MemoryIOManager | None = None,
    engine_hook: Any = None,
    launcher: str | None = None,
    resume: bool = False,
    pool_limits: Mapping[str, int] | None = None,
) -> RunResult:
    """Execute a queued run (its id, or its record if already read) in this process and return
    the result; its steps are read from the store only when the result is asked for them.

    ``pool_limits`` sizes the named pools that steps declare (``pool=``); with any pool in use,
    the executor is wrapped so that no pool has more steps running than its size, across every
    process sharing the store.

    ``launcher`` is the lease holder that claimed the run (the engine renews that lease);
    ``resume`` takes over a run whose process died: finished steps are kept, lost attempts retried.
    """
    record = get_run(store, run) if isinstance(run, str) else run
    if plan is None:
        plan = plan_queued(store, graph, record)
    if not has_steps(store, record.run_id):  # queued by a trigger: its plan is made here
        with store.transaction() as conn:
            add_steps(conn, record.run_id, planned_steps(graph, plan), created_at=record.created_at)
    if pool_limits or any(graph[p.key.node].step.pool for p in plan.steps):
        executor = PoolGate(executor, store, pool_limits or {}, nodes=plan.nodes)
    hint = widest_wave(plan)  # a chain starts one pool worker, not one per core
    values = FilesystemIOManager(storage_root) if storage_root is not None else None
    if values is not None:
        values.key  # noqa: B018 - made here, if new, before any worker looks for it
    engine = RunEngine(
        store,
        graph,
        plan,
        record.run_id,
        executor,
        max_concurrency=max_concurrency,
        default_retry=default_retry or (pipeline.retries if pipeline else None),
        run_config=dict(record.config),
        on_events=on_events,
        launcher=launcher,
        lease_seconds=LEASE_SECONDS,
        resume=resume,
        publish=values,
        allow_untrusted=allows_untrusted(record.tags),
    )
    executor.start(
        ExecutorSetup(project, storage_root, sys_path, hint, engine.live_logs, graph=graph)
    )
    if engine_hook is not None:
        engine_hook(engine)
    with capturing():
        status = engine.execute()
    return _result(graph, store, record.run_id, status, storage_root, memory_io)


def launch_run(
    project: Project,
    graph: Graph,
    selection: str | Iterable[str],
    *,
    store: Store,
    storage_root: Path | None,
    executor: Executor,
    partitions: Sequence[str] | str = (),
    pipeline: Pipeline | None = None,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, Any] | None = None,
    max_concurrency: int | None = None,
    default_retry: Retry | None = None,
    on_events: OnEvents | None = None,
    plan: Plan | None = None,
    parent_run_id: str | None = None,
    sys_path: tuple[str, ...] = (),
    memory_io: MemoryIOManager | None = None,
    engine_hook: Any = None,
    idempotency_key: str | None = None,
    backfill_id: str | None = None,
    trigger: str = "manual",
    pool_limits: Mapping[str, int] | None = None,
) -> RunResult:
    """Plan the selection, record the run claimed by this process, execute it and return the
    result.

    With an ``idempotency_key`` that already names a run, nothing is executed and that run's
    current state is returned.
    """
    if plan is None:
        plan = plan_run(
            graph, select(graph, selection), partitions=partitions, dynamic=dynamic_lookup(store)
        )
    if storage_root is not None:
        load_key(storage_root)  # a key that cannot be used is reported before a run is recorded
    launcher = new_launcher()
    run_id, created = queue_run(
        store,
        graph,
        selection,
        plan=plan,
        executor=executor.name,
        pipeline=pipeline,
        tags=tags,
        run_config=run_config,
        parent_run_id=parent_run_id,
        idempotency_key=idempotency_key,
        backfill_id=backfill_id,
        trigger=trigger,
        launcher=launcher,
    )
    if not created:
        existing = get_run(store, run_id)
        return _result(graph, store, run_id, existing.status, storage_root, memory_io)
    return execute_run(
        project,
        graph,
        store,
        run_id,
        plan=plan,
        storage_root=storage_root,
        executor=executor,
        pipeline=pipeline,
        max_concurrency=max_concurrency,
        default_retry=default_retry,
        on_events=on_events,
        sys_path=sys_path,
        memory_io=memory_io,
        engine_hook=engine_hook,
        launcher=launcher,
        pool_limits=pool_limits,
    )


def _result(
    graph: Graph,
    store: Store,
    run_id: str,
    status: RunStatus,
    storage_root: Path | None,
    memory_io: MemoryIOManager | None,
) -> RunResult:
    io = (
        FilesystemIOManager(storage_root)
        if storage_root is not None
        else memory_io or MemoryIOManager()
    )

    def load(key: StepKey, record: StepRecord) -> Any:
        if graph[key.node].step.map_over is not None and key.map_index < 0:  # a fan-out: its items
            items = sorted(
                (
                    r
                    for r in result.steps.values()
                    if r.node == key.node and r.partition == key.partition and r.map_index >= 0
                ),
                key=lambda r: r.map_index,
            )
            return [load(StepKey.parse(r.step_key), r) for r in items]
        kind = graph[key.node].step.kind
        run = record.reused_from or run_id
        return io.load(IOContext(key, run, key.node if kind == "asset" else None))

    result = RunResult(run_id, status, store, load)
    return result


def rerun_plan(store: Store, graph: Graph, run_id: str) -> tuple[RunRecord, Plan]:
    """Plan a re-run of ``run_id`` from its failure: succeeded steps are reused, not re-executed."""
    parent = get_run(store, run_id)
    if not parent.status.finished:
        raise LegatoError(
            f"run {parent.run_id} is {parent.status}; it can be re-run once finished",
            obj=parent.run_id,
            hint="wait for it, or cancel it first",
        )
    nodes = {s.node for s in get_steps(store, parent.run_id) if s.map_index < 0}
    missing = sorted(n for n in nodes if n not in graph)
    if missing:
        raise LegatoError(
            f"run {parent.run_id} ran {missing}, which the project no longer defines",
            obj=parent.run_id,
            hint="re-run with a new selection instead",
        )
    plan = plan_run(graph, nodes, partitions=parent.partition, dynamic=dynamic_lookup(store))
    succeeded = {}
    for step in get_steps(store, parent.run_id):
        if step.status.ok:
            succeeded[StepKey.parse(step.step_key)] = step.reused_from or parent.run_id
    return parent, plan_rerun(plan, succeeded)
