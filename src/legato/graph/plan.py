"""Plan a run: which steps, for which partition keys, in dependency order, and what each reads.
Partition keys given to a run belong to the selected nodes whose space contains them; the keys of
other partitioned nodes follow from their upstreams through the edges' partition mappings (a daily
key makes its month's roll-up run too). For every partitioned edge the plan records which upstream
keys each step reads, so the engine needs no partition maths."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NamedTuple

from legato.definitions.keys import StepKey
from legato.definitions.partitions import (
    DynamicLookup,
    FanOut,
    Identity,
    PartitionMapping,
    PartitionSpace,
    ProductPartitions,
    TimeWindow,
    Unpartitioned,
)
from legato.definitions.partitions.bulk import SpaceKeys, downstream_of_many, may_share_keys
from legato.definitions.partitions.product import ProductKeys
from legato.errors import PartitionError, SelectionError
from legato.graph.fan_outs import check_fan_outs
from legato.graph.graph import Graph
from legato.graph.run_config import run_nodes


@dataclass(frozen=True)
class UpstreamKeys:
    """The upstream partition keys one step reads from one upstream node.

    ``as_mapping``: the step receives ``{key: value}`` (roll-ups, windows, fan-ins) rather than
    the single value. ``min_count``: load the keys that exist if at least this many do.
    ``required``: only the first ``required`` keys must have a value; the others are read when
    they have one (None: every key is required).
    """

    keys: tuple[str, ...]
    as_mapping: bool = False
    min_count: int | None = None
    required: int | None = None


@dataclass(frozen=True)
class PlannedStep:
    """One step of a plan. ``template`` steps are dynamic fan-outs expanded at run time."""

    key: StepKey
    waits_for: tuple[StepKey, ...] = ()
    template: bool = False
    upstream: Mapping[str, UpstreamKeys] = field(default_factory=dict)  # partitioned edges only
    partition_keys: tuple[str, ...] = ()  # a single-run step: every key it processes at once


@dataclass(frozen=True)
class Plan:
    """Steps in dependency order. Inputs from nodes outside the plan are loaded from storage."""

    steps: tuple[PlannedStep, ...]
    partitions: tuple[str, ...] = ()
    reused: Mapping[StepKey, str] = field(default_factory=dict)  # step → run whose output it reuses

    def __len__(self) -> int:
        return len(self.steps)

    @property
    def partition(self) -> str:
        """The run's partition keys as one string ("|" never occurs in a key)."""
        return "|".join(self.partitions)

    @property
    def nodes(self) -> set[str]:
        return {s.key.node for s in self.steps}


def split_partitions(text: str) -> tuple[str, ...]:
    """The inverse of ``Plan.partition``."""
    return tuple(k for k in text.split("|") if k) if text else ()


def plan_run(
    graph: Graph,
    selected: Iterable[str],
    *,
    partitions: Sequence[str] | str = (),
    now: datetime | None = None,
    dynamic: DynamicLookup | None = None,
) -> Plan:
    """Plan the selected nodes for the given partition keys; upstream tasks are added (their
    results are not persistent), upstream assets outside the selection are read from storage,
    and each planned asset's checks run right after it (steps reading the asset wait for its
    blocking checks). A fan-out must map over one list made in the run (``fan_outs``)."""
    given = split_partitions(partitions) if isinstance(partitions, str) else tuple(partitions)
    now = now or datetime.now(UTC)
    order, keys_of = plan_nodes(graph, selected, given, now=now, dynamic=dynamic)
    steps: list[PlannedStep] = []
    step_of: dict[tuple[str, str], StepKey] = {}  # (node, key) → the step that produces it
    for node_key in order:
        keys = keys_of[node_key]
        planned = [_planned(graph, node_key, k, keys_of, step_of, now, dynamic) for k in keys]
        if graph[node_key].step.single_run and len(keys) > 1:
            planned = [_merge_range(node_key, keys, planned)]
        for step in planned:
            for key in step.partition_keys or (step.key.partition,):
                step_of[(node_key, key)] = step.key
        steps.extend(planned)
    check_fan_outs(graph, steps, step_of)
    return Plan(tuple(steps), given)


def _merge_range(node_key: str, keys: list[str], parts: list[PlannedStep]) -> PlannedStep:
    """One step for every key of a single-run asset; it reads the union of what they read."""
    upstream: dict[str, list[str]] = {}
    for part in parts:
        for up, read in part.upstream.items():
            upstream.setdefault(up, []).extend(read.keys)
    waits = tuple(dict.fromkeys(w for p in parts for w in p.waits_for))
    return PlannedStep(
        StepKey(node_key, f"{keys[0]}..{keys[-1]}"),
        waits,
        upstream={up: UpstreamKeys(tuple(dict.fromkeys(k)), True) for up, k in upstream.items()},
        partition_keys=tuple(keys),
    )


def plan_nodes(
    graph: Graph,
    selected: Iterable[str],
    given: Sequence[str],
    *,
    now: datetime | None = None,
    dynamic: DynamicLookup | None = None,
) -> tuple[list[str], dict[str, list[str]]]:
    """The nodes to run (selection plus upstream tasks) in order, and each node's keys."""
    now = now or datetime.now(UTC)  # one "now" for the whole plan (and cacheable answers)
    selected = set(selected)
    wanted = run_nodes(
        _produced_here(graph, selected),
        lambda k: graph[k].upstream,
        lambda k: graph[k].step.kind == "task",
    )
    wanted.update(c for key in list(wanted) for c in graph.checks_of.get(key, ()))
    order = graph.sorted(wanted)
    keys_of: dict[str, list[str]] = {}
    used: set[str] = set()
    if not isinstance(given, SpaceKeys):
        given = tuple(given)
    for node_key in order:
        keys_of[node_key] = _keys_for(graph, node_key, given, keys_of, used, now, dynamic)
    whole = isinstance(given, SpaceKeys) and any(given.of(graph[n].partitions) for n in order)
    unused = [] if whole else [k for k in given if k not in used]
    if unused:
        spaces = sorted({s.summary() for n in order if (s := graph[n].partitions) is not None})
        raise PartitionError(
            f"partition {unused[0]!r} is not a key of any selected asset or task",
            obj=unused[0],
            hint=f"the selection is partitioned by {', '.join(spaces)}"
            if spaces
            else "the selection is not partitioned: leave out --partition",
        )
    return order, keys_of


def _produced_here(graph: Graph, selected: set[str]) -> set[str]:
    """The selection without external assets: another project produces them, and a step that
    reads one loads its stored value. Selecting nothing but them is an error."""
    here = {k for k in selected if graph[k].step.external is None}
    if selected and not here:
        key = min(selected)
        producer = graph[key].step.external
        raise SelectionError(
            f"asset {key!r} ({graph[key].step.source}) is external: "
            f"{f'project {producer!r}' if producer else 'another project'} produces it",
            obj=key,
            hint="run it in the project that defines it, or select what reads it here",
        )
    return here


def _keys_for(
    graph: Graph,
    node_key: str,
    given: Sequence[str],
    keys_of: dict[str, list[str]],
    used: set[str],
    now: datetime,
    dynamic: DynamicLookup | None,
) -> list[str]:
    node = graph[node_key]
    space = node.partitions
    if space is None:
        return [""]
    reached = [
        downstream_of_many(
            node.mappings[up], keys_of[up], up_space, space, now=now, dynamic=dynamic
        )
        for up in node.upstream
        if up in keys_of and (up_space := graph[up].partitions) is not None
    ]
    if isinstance(given, SpaceKeys) and given.of(space) and all(r is given for r in reached):
        return given  # keys the space made itself (a range), reached from nowhere else
    keys: dict[str, None] = {}
    if isinstance(given, SpaceKeys) and given.of(space):
        keys.update(dict.fromkeys(given))
    elif not isinstance(given, SpaceKeys) or may_share_keys(given.space, space):
        for raw in given:
            key = canonical_key(space, raw)
            if space.contains(key, now, dynamic):
                keys[key] = None
                used.add(raw)
    for found in reached:
        keys.update(dict.fromkeys(found))
    if not keys and given:
        step = node.step
        try:
            space.validate_key(canonical_key(space, given[0]), now, dynamic)
        except PartitionError as exc:
            raise PartitionError(
                f"{step.kind} {step.key!r} ({step.source}): {exc.message}",
                obj=step.key,
                source=step.source,
                hint=exc.hint,
            ) from None
    if not keys:
        step = node.step
        example = _first_key(space, now, dynamic)
        raise PartitionError(
            f"{step.kind} {step.key!r} ({step.source}) is partitioned by {space.summary()}; "
            "say which partition to run",
            obj=step.key,
            source=step.source,
            hint=f"pass a partition key (--partition KEY){f', e.g. {example!r}' if example else ''}",
        )
    return list(keys)


def _planned(
    graph: Graph,
    node_key: str,
    part: str,
    keys_of: dict[str, list[str]],
    step_of: dict[tuple[str, str], StepKey],
    now: datetime | None,
    dynamic: DynamicLookup | None,
) -> PlannedStep:
    node = graph[node_key]
    waits: list[StepKey] = []
    upstream: dict[str, UpstreamKeys] = {}
    for up in node.upstream:
        mapping = node.mappings.get(up)
        # A step reading ``up`` waits until its blocking checks passed (its other checks don't).
        gates = graph.blocking_checks(up) if node.step.check is None else ()
        if mapping is None:  # both unpartitioned
            waits.extend(step_of[(k, "")] for k in (up, *gates) if (k, "") in step_of)
            continue
        up_space = graph[up].partitions
        if up_space is None:
            read = UpstreamKeys(("",))
        else:
            keys = mapping.upstream_keys(
                part or None, up_space, node.partitions, now=now, dynamic=dynamic
            )
            later = mapping.optional_upstream_keys(
                part or None, up_space, node.partitions, now=now, dynamic=dynamic
            )
            read = UpstreamKeys(
                tuple(keys) + tuple(later),
                not single_valued(mapping),
                getattr(mapping, "min_count", None),
                required=len(keys) if later else None,
            )
        upstream[up] = read
        for source in (up, *gates):
            waits.extend(step_of[(source, k)] for k in read.keys if (source, k) in step_of)
    return PlannedStep(
        StepKey(node_key, part),
        tuple(dict.fromkeys(waits)),
        template=node.step.map_over is not None,
        upstream=upstream,
    )


def single_valued(mapping: PartitionMapping) -> bool:
    """True if a downstream key reads one upstream value (passed as is, not as a dict)."""
    if isinstance(mapping, Identity | Unpartitioned | FanOut):
        return True
    return isinstance(mapping, TimeWindow) and mapping.lookback == 0


def canonical_key(space: PartitionSpace, key: str) -> str:
    """``tenant=acme,date=…`` in the product's own dimension order; other keys unchanged."""
    if isinstance(space, ProductPartitions) and "=" in key:
        try:
            return str(space.split(key))  # split orders the dimensions (and is cached)
        except PartitionError:
            return key
    return key


def partition_range(
    graph: Graph,
    nodes: Iterable[str],
    first: str,
    last: str,
    *,
    now: datetime | None = None,
    dynamic: DynamicLookup | None = None,
) -> SpaceKeys:
    """The keys from ``first`` to ``last`` of the selected nodes' partition space, made by the
    space in its order without listing the rest of it (so planning checks none of them again).

    For a product space, ``first`` and ``last`` may be keys of one dimension (e.g. two dates):
    the range then covers every key of the other dimensions (every tenant for those dates).
    """
    spaces = [graph[n].partitions for n in graph.sorted(nodes)]
    found = key_range([s for s in spaces if s is not None], first, last, now=now, dynamic=dynamic)
    if found is None:
        raise PartitionError(
            f"no selected asset has partition keys {first!r} and {last!r}",
            obj=f"{first}..{last}",
            hint="use keys of the selection's partition space "
            "(see 'legato partitions status ASSET')",
        )
    return SpaceKeys(found.space, found.keys, contiguous=found.contiguous)


class KeyRange(NamedTuple):
    space: PartitionSpace
    keys: Sequence[str]  # lazy: ``len`` costs nothing, the keys are made when read
    contiguous: bool  # every key of ``space`` from the first to the last


def key_range(
    spaces: Iterable[PartitionSpace],
    first: str,
    last: str,
    *,
    now: datetime | None = None,
    dynamic: DynamicLookup | None = None,
) -> KeyRange | None:
    """The keys from ``first`` to ``last`` of the first of ``spaces`` that has both (or whose
    product has a dimension that has both), unlisted; None if none has."""
    now = now or datetime.now(UTC)
    for space in spaces:
        a, b = canonical_key(space, first), canonical_key(space, last)
        if space.contains(a, now, dynamic) and space.contains(b, now, dynamic):
            between = space.keys_between(a, b, now, dynamic)
            return KeyRange(space, between, not isinstance(space, ProductPartitions))
        if isinstance(space, ProductPartitions):
            for name, dim in space.dimensions:
                if dim.contains(first, now, dynamic) and dim.contains(last, now, dynamic):
                    # the range on one dimension, every key of the others: made, never listed
                    axes = [
                        d.keys_between(first, last, now, dynamic)
                        if n == name
                        else d.keys(now, dynamic)
                        for n, d in space.dimensions
                    ]
                    return KeyRange(space, ProductKeys(space, axes), False)
    return None


def _first_key(
    space: PartitionSpace, now: datetime | None, dynamic: DynamicLookup | None
) -> str | None:
    try:
        keys = space.keys(now, dynamic)
        return keys[len(keys) - 1] if len(keys) else None
    except PartitionError:
        return None


def plan_rerun(plan: Plan, succeeded: Mapping[StepKey, str]) -> Plan:
    """Re-plan after a failure: steps that succeeded (and whose outputs exist) are reused.

    ``succeeded`` maps each reusable step to the run that produced its output. A step is re-run
    if it did not succeed or if anything it waits for is re-run.
    """
    rerun: set[StepKey] = set()
    reused: dict[StepKey, str] = {}
    for step in plan.steps:
        inputs_rerun = any(w in rerun for w in step.waits_for)
        if step.key not in succeeded or inputs_rerun:
            rerun.add(step.key)
            if step.template and not inputs_rerun:  # same items: keep the ones that succeeded
                reused.update(
                    {
                        k: run
                        for k, run in succeeded.items()
                        if k.map_index >= 0 and k._replace(map_index=-1) == step.key
                    }
                )
        else:
            reused[step.key] = succeeded[step.key]
    return Plan(plan.steps, plan.partitions, reused)
