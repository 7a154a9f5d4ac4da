"""Evaluate schedules from the snapshot alone (no user code): due ticks → queued runs.

The first time a schedule is seen it starts from now (history is not replayed); later, ticks
missed while no daemon ran follow the schedule's catch-up policy. Each tick's run carries the
idempotency key ``tick:<trigger>:<time>``, committed with the tick and the trigger's progress.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from legato.definitions.partitions import (
    DynamicLookup,
    PartitionSpace,
    ProductPartitions,
    TimeWindowPartitions,
)
from legato.definitions.partitions.restore import space_from_description
from legato.definitions.schedule_specs import schedule_of
from legato.definitions.trigger_specs import CronSpec, EverySpec
from legato.graph.run_config import check_triggered_config
from legato.graph.snapshot import NodeSnapshot, PipelineSnapshot
from legato.store.automation import TriggerRow
from legato.store.engine import Store
from legato.store.run_requests import NewRun, run_record
from legato.store.tick_writes import TickWrite, write_ticks


def tick_partitions(
    pipeline: PipelineSnapshot,
    nodes: Mapping[str, NodeSnapshot],
    tick: datetime,
    dynamic: DynamicLookup | None,
) -> tuple[str, ...]:
    """The partition keys a tick runs: the window that just completed, for every value of the
    other dimensions of a product. Unpartitioned pipelines get no keys."""
    space: PartitionSpace | None = None
    for key in pipeline.nodes:
        node = nodes.get(key)
        space = None if node is None else space_from_description(node.partitions)
        if space is not None:
            break
    if space is None:
        return ()
    if isinstance(space, TimeWindowPartitions):
        window = space.last_complete(tick)
        return (window.key,) if window is not None else ()
    if isinstance(space, ProductPartitions):
        for name in space.dimension_names:
            dim = space.dimension(name)
            if isinstance(dim, TimeWindowPartitions):
                window = dim.last_complete(tick)
                if window is None:
                    return ()
                return tuple(
                    k for k in space.keys(tick, dynamic) if space.split(k)[name] == window.key
                )
    return tuple(space.keys(tick, dynamic))


def plan_schedule(
    trigger: TriggerRow,
    pipeline: PipelineSnapshot,
    nodes: Mapping[str, NodeSnapshot],
    now: datetime,
    dynamic: DynamicLookup | Callable[[str], Sequence[str]] | None = None,
    *,
    until: datetime | None = None,
) -> list[TickWrite]:
    """What a schedule does at ``now``: a tick with its run for each tick due since the last
    one, then the trigger moves on. Pure: the daemon commits the writes of a batch at once.

    ``until`` (a virtual clock about to jump there) adds the ticks of ``(now, until]`` as a
    daemon evaluating at each of them would have made them: on time, every one.

    A tick's run gets the pipeline's config and nothing else: if that does not fit the config
    models of the steps it runs, ``RunConfigError`` names the step, the field and the fix, from
    the first evaluation on (the daemon records it as a failed tick, once), and no run is made."""
    check_triggered_config(pipeline.config_schema, pipeline.config, pipeline.name, trigger.kind)
    assert isinstance(trigger.spec, CronSpec | EverySpec), trigger.spec
    schedule = schedule_of(trigger.spec)
    end = now if until is None or until < now else until
    next_due = schedule.next_fire(end).timestamp()
    if trigger.last_tick is None:  # first sight: start from now, replay nothing
        if end == now:
            return [TickWrite(trigger.trigger_id, last_tick=now.timestamp(), next_due=next_due)]
        last = now
    else:
        last = datetime.fromtimestamp(trigger.last_tick, UTC)
    writes = []
    for tick in [*schedule.due_ticks(last, now), *schedule.fires_between(max(last, now), end)]:
        key = tick.isoformat()
        request = NewRun.of_pipeline(
            pipeline,
            partition="|".join(tick_partitions(pipeline, nodes, tick, dynamic)),
            tags={"legato/tick": key},
            trigger="schedule",
            trigger_id=trigger.trigger_id,
            key=("tick", trigger.trigger_id, key),
        )
        writes.append(
            TickWrite(
                trigger.trigger_id,
                key,
                # queued when the daemon looked, or at its tick when planned ahead of a jump
                runs=[run_record(request, now=max(tick, now).timestamp())],
                last_tick=tick.timestamp(),
            )
        )
    last_tick = max(last, end).timestamp()
    writes.append(TickWrite(trigger.trigger_id, last_tick=last_tick, next_due=next_due))
    return writes


def evaluate_schedule(
    store: Store,
    trigger: TriggerRow,
    pipeline: PipelineSnapshot,
    nodes: Mapping[str, NodeSnapshot],
    now: datetime,
    *,
    owner: str | None = None,
    dynamic: DynamicLookup | Callable[[str], Sequence[str]] | None = None,
) -> list[str]:
    """Create the runs of the ticks now due (one transaction); returns their run ids."""
    writes = plan_schedule(trigger, pipeline, nodes, now, dynamic)
    return write_ticks(store, writes, owner=owner).get(trigger.trigger_id, [])
