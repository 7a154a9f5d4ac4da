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

from sqlalchemy import func, select

from legato._internal.ids import bounded_key
from legato.automation.files import PartitionCheck, evaluate_file_arrival
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

MAX_EVENTS = 10_000


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
) -> dict[str, Any]:
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


def _sensor_result(raw: Any, cursor: str | None) -> dict[str, Any]:
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
    return {
        "requests": [r.as_dict() for r in raw.run_requests],
        "cursor": raw.cursor,
        "skip_reason": raw.skip_reason,
        "dynamic_partitions": {k: list(v) for k, v in raw.dynamic_partitions.items()},
    }


def evaluate_on_update(
    graph: Graph,
    store: Store,
    targets: set[str],
    trigger: OnUpdate,
    cursor: str | None,
    now: datetime,
) -> dict[str, Any]:
    """New materializations of the targets' upstreams → runs of the target partitions whose
    inputs are ready (all / any / at least ``min_count`` of the upstream keys they read).

    The cursor is the last materialization id looked at; while catching up on materializations
    older than the trigger (``OnUpdate(since=...)``) it is ``"<id>~<last id of the catch-up>"``,
    and target partitions already materialized are not requested again."""
    m = schema.materializations.c
    if cursor is None:
        return _first_look(store, trigger, now)
    after, _, catch_up = cursor.partition("~")
    with store.read() as conn:
        rows = conn.execute(
            select(m.id, m.asset_key, m.partition)
            .where(m.id > int(after))
            .order_by(m.id)
            .limit(MAX_EVENTS)
        ).all()
    if not rows:
        return {"requests": [], "cursor": after, "skip_reason": "no new materializations"}
    caught_up_at = int(catch_up or 0)
    dynamic = dynamic_lookup(store)
    candidates: dict[tuple[str, str], bool] = {}  # → seen only in materializations of the catch-up
    for row in rows:
        old = row.id <= caught_up_at
        for target in graph.downstream.get(row.asset_key, ()):
            if target not in targets or graph[target].step.check is not None:
                continue  # a check runs with its asset's materialization, not after it
            mapping = graph[target].mappings.get(row.asset_key)
            up_space = graph[row.asset_key].partitions
            if mapping is None or up_space is None or graph[target].partitions is None:
                candidates[(target, "")] = candidates.get((target, ""), True) and old
                continue
            for key in mapping.downstream_keys(
                row.partition or None, up_space, graph[target].partitions, now=now, dynamic=dynamic
            ):
                candidates[(target, key)] = candidates.get((target, key), True) and old
    by_target: dict[str, list[str]] = {}
    for (target, key), old in candidates.items():
        if old:
            by_target.setdefault(target, []).append(key)
    existing = {(t, k) for t, keys in by_target.items() for k in _materialized(store, t, keys)}
    requests = []
    for target, key in candidates:
        if (target, key) in existing:
            continue  # catching up: a partition that exists is not made again
        if _ready(graph, store, target, key, trigger, now, dynamic):
            requests.append(
                {
                    "selection": target,
                    "partition": key,
                    "config": {},
                    "tags": {},
                    "key": f"{target}[{key}]@{rows[-1].id}",
                    "dynamic_partitions": {},
                }
            )
    reason = None if requests else "upstream partitions updated but none is complete yet"
    last = rows[-1].id
    next_cursor = f"{last}~{caught_up_at}" if last < caught_up_at else str(last)
    return {"requests": requests, "cursor": next_cursor, "skip_reason": reason}


def _first_look(store: Store, trigger: OnUpdate, now: datetime) -> dict[str, Any]:
    """A new trigger's cursor: the latest materialization (``since="now"``: nothing is
    replayed), or just before the first one of the catch-up window, which ends at the latest."""
    m = schema.materializations.c
    start = trigger.catch_up_from(now)
    with store.read() as conn:
        latest = conn.execute(select(func.max(m.id))).scalar() or 0
        first = None
        if start is not None:
            first = conn.execute(select(func.min(m.id)).where(m.ts >= start)).scalar()
    if first is None:
        return {"requests": [], "cursor": str(latest), "skip_reason": "started watching"}
    return {
        "requests": [],
        "cursor": f"{first - 1}~{latest}",
        "skip_reason": f"started watching; catching up on materializations {first} to {latest}",
    }


def _ready(
    graph: Graph,
    store: Store,
    target: str,
    key: str,
    trigger: OnUpdate,
    now: datetime,
    dynamic: Any,
) -> bool:
    node = graph[target]
    results = []
    for up in node.upstream:
        mapping = node.mappings.get(up)
        up_space = graph[up].partitions
        needed = (
            [""]
            if mapping is None or up_space is None
            else mapping.upstream_keys(
                key or None, up_space, node.partitions, now=now, dynamic=dynamic
            )
        )
        have = _materialized(store, up, needed)
        if trigger.min_count is not None:
            results.append(len(have) >= min(trigger.min_count, len(needed)))
        elif mapping is not None and up_space is not None:
            results.append(mapping.is_ready(needed, have))
        else:
            results.append(len(have) == len(needed))
    if not results:
        return True
    return any(results) if trigger.require == "any" else all(results)


def _materialized(store: Store, asset: str, keys: list[str]) -> set[str]:
    a = schema.asset_latest.c
    found: set[str] = set()
    with store.read() as conn:
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            found |= set(
                conn.execute(
                    select(a.partition).where(
                        a.asset_key == asset, a.partition.in_(chunk), a.materialized_at.is_not(None)
                    )
                ).scalars()
            )
    return found
