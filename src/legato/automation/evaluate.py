"""Evaluate triggers that need user code or facts: sensors, file arrival and OnUpdate.

These run where the user's code is loaded (the code server child process, or in process for
tests and the virtual clock). Each returns plain data: run requests, the new cursor, or why
nothing was requested; the daemon records them in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from legato._internal.ids import bounded_key
from legato.automation.evaluation import Evaluation, RequestedRun
from legato.automation.files import PartitionCheck, evaluate_file_arrival
from legato.automation.on_update import evaluate_on_update
from legato.definitions.project import Project
from legato.definitions.triggers import FileArrival, OnUpdate, RunRequest, Sensor, SensorResult
from legato.errors import LegatoError, PartitionError
from legato.graph.graph import Graph
from legato.graph.plan import canonical_key
from legato.graph.select import select as select_nodes
from legato.store import schema
from legato.store.automation import trigger_id
from legato.store.engine import Store
from legato.store.partitions import dynamic_lookup


@dataclass(frozen=True)
class SensorContext:
    """What a sensor function receives."""

    cursor: str | None
    now: datetime
    store: Store

    def dynamic_keys(self, name: str) -> list[str]:
        return list(dynamic_lookup(self.store)(name))


def evaluate(
    project: Project, graph: Graph, store: Store, request: Mapping[str, Any]
) -> Evaluation:
    """Evaluate trigger ``request["index"]`` of pipeline ``request["pipeline"]``."""
    pipe = project.pipelines.get(request["pipeline"])
    if pipe is None or request["index"] >= len(pipe.triggers):
        raise LegatoError(
            f"trigger {request['pipeline']}#{request['index']} no longer exists",
            hint="the definitions changed; the daemon reloads them",
        )
    trigger = pipe.triggers[request["index"]]
    now = datetime.fromisoformat(request["now"])
    cursor = request.get("cursor")
    if isinstance(trigger, Sensor):
        raw = trigger.fn(SensorContext(cursor, now, store))
        return _sensor_result(raw, cursor)
    if isinstance(trigger, OnUpdate):
        return evaluate_on_update(
            graph, store, select_nodes(graph, pipe.selection), trigger, cursor, now
        )
    if isinstance(trigger, FileArrival):
        return evaluate_file_arrival(
            trigger,
            cursor,
            now,
            check_partition=_partition_check(graph, store, pipe.selection, now),
            requested=_requested(store, trigger_id(pipe.name, request["index"], "file_arrival")),
        )
    raise LegatoError(f"trigger kind {type(trigger).__name__} is not evaluated here")


def _partition_check(graph: Graph, store: Store, selection: Any, now: datetime) -> PartitionCheck:
    """Whether a file batch's partition key is a key of every selected partitioned node: if it
    will be once its time window has ended, the batch waits; if it never will, it is refused."""
    spaces = list(
        dict.fromkeys(
            space
            for key in select_nodes(graph, selection)
            if (space := graph[key].partitions) is not None
        )
    )
    stored = dynamic_lookup(store)

    def check(partition: str, adding: Mapping[str, list[str]]) -> tuple[str, str] | None:
        def dynamic(name: str) -> Sequence[str]:
            return [*stored(name), *adding.get(name, [])]

        for space in spaces:
            key = canonical_key(space, partition)
            try:
                space.validate_key(key, now, dynamic)
            except PartitionError as exc:
                if space.contains(key, now + timedelta(days=400), dynamic):
                    return "wait", f"partition {partition!r} is a key once its window has ended"
                return "refuse", str(exc)
        return None

    return check


def _requested(store: Store, trigger: str) -> Callable[[str], bool]:
    """Whether a run was already requested for a file batch (the daemon's idempotency key)."""
    column = schema.runs.c.idempotency_key
    limit = int(getattr(column.type, "length", None) or 512)

    def requested(batch_key: str) -> bool:
        key = bounded_key(f"file_arrival:{trigger}:{batch_key}", limit)
        with store.read() as conn:
            return (
                conn.execute(select(schema.runs.c.run_id).where(column == key)).first() is not None
            )

    return requested


def _sensor_result(raw: Any, cursor: str | None) -> Evaluation:
    if raw is None:
        raw = SensorResult(skip_reason="the sensor returned nothing", cursor=cursor)
    if isinstance(raw, RunRequest):
        raw = SensorResult(run_requests=[raw], cursor=cursor)
    if isinstance(raw, list | tuple):
        raw = SensorResult(run_requests=list(raw), cursor=cursor)
    if not isinstance(raw, SensorResult):
        raise LegatoError(
            f"a sensor returned {type(raw).__name__}",
            hint="return SensorResult(...), a RunRequest, a list of them, or None",
        )
    for request in raw.run_requests:
        if not isinstance(request, RunRequest):
            raise LegatoError(
                f"a sensor returned {request!r} among its run requests",
                hint="return RunRequest(partition=..., config=...) objects",
            )
    return Evaluation(
        requests=[_requested_run(r) for r in raw.run_requests],
        cursor=raw.cursor,
        skip_reason=raw.skip_reason,
        dynamic_partitions={k: list(v) for k, v in raw.dynamic_partitions.items()},
    )


def _requested_run(request: RunRequest) -> RequestedRun:
    return RequestedRun(
        key=request.key,
        partition=request.partition,
        config=dict(request.config),
        tags=dict(request.tags),
        dynamic_partitions={k: list(v) for k, v in request.dynamic_partitions.items()},
    )
