"""Plan a backfill: the (asset, key) targets of a selection over many keys, grouped into runs in
dependency order — a day's run before the roll-up run of its month, upstream spaces first.

A key reached only through a partition mapping (the month of a backfilled day) is planned only if
what it reads will exist: planned by the backfill or already materialized. A month of which the
backfill covers two days is not run to fail; it is reported as waiting, naming the missing keys.

Pure: facts about what is already materialized are handed in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from legato.definitions.partitions import DynamicLookup, PartitionSpace
from legato.definitions.partitions.bulk import SpaceKeys, may_share_keys, upstream_of_many
from legato.graph.graph import Graph
from legato.graph.plan import canonical_key, plan_nodes


@dataclass(frozen=True)
class RunGroup:
    """One run of a backfill: these nodes for these partition keys, after the groups in ``after``."""

    nodes: tuple[str, ...]
    partitions: tuple[str, ...]
    after: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "nodes": list(self.nodes),
            "partitions": list(self.partitions),
            "after": list(self.after),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunGroup:
        return cls(tuple(data["nodes"]), tuple(data["partitions"]), tuple(data["after"]))


@dataclass(frozen=True)
class Waiting:
    """A key left out of the backfill because upstream keys it reads will not exist."""

    node: str
    key: str
    missing: Mapping[str, tuple[str, ...]]  # upstream node → its keys neither planned nor stored

    def describe(self, most: int = 3) -> str:
        parts = []
        for up, keys in self.missing.items():
            shown = ", ".join(keys[:most]) + (
                f" … ({len(keys)} missing)" if len(keys) > most else ""
            )
            parts.append(f"{up} {shown}")
        return f"{self.node}[{self.key}] waits for {'; '.join(parts)}"


@dataclass(frozen=True)
class BackfillPlan:
    groups: tuple[RunGroup, ...]
    skipped: Mapping[str, int] = field(default_factory=dict)  # node → keys already materialized
    waiting: tuple[Waiting, ...] = ()  # keys whose upstream keys will not all exist

    @property
    def steps(self) -> int:
        return sum(len(g.nodes) * max(1, len(g.partitions)) for g in self.groups)


Materialized = Callable[[str, Collection[str]], Collection[str]]
"""``(asset, keys) -> the keys among them already materialized`` (the store answers it)."""


def plan_backfill(
    graph: Graph,
    selected: Iterable[str],
    keys: Sequence[str],
    *,
    materialized: Mapping[str, Collection[str]] | Materialized | None = None,
    missing_only: bool = False,
    single_run: bool = False,
    now: datetime | None = None,
    dynamic: DynamicLookup | None = None,
) -> BackfillPlan:
    """Group the selection's targets into runs.

    Nodes sharing a partition space and a key run together; unpartitioned nodes run last, in
    one run. ``materialized`` says which partitions of an asset are materialized: a mapping of
    asset keys to their materialized keys, or a function asked only about the keys that matter
    (with ``missing_only``, the planned keys; else upstream keys the backfill does not plan).
    With ``missing_only``, asset keys already materialized are left out. A key not given but
    reached through a mapping is left out as waiting when it reads upstream keys that are
    neither planned nor materialized. With ``single_run``, everything is one run over all keys
    (for steps that process a range at once). ``keys`` from ``partition_range`` (``SpaceKeys``)
    are not checked again: the work is proportional to the keys planned, not to the space.
    """
    now = now or datetime.now(UTC)
    done = _lookup(materialized)
    order, keys_of = plan_nodes(graph, selected, keys, now=now, dynamic=dynamic)
    skipped: dict[str, int] = {}
    waiting: list[Waiting] = []
    if missing_only and materialized:
        for node in order:
            if graph[node].step.kind == "asset" and graph[node].partitions is not None:
                there = done(node, keys_of[node])
                if there:
                    kept = [k for k in keys_of[node] if k not in there]
                    skipped[node] = len(keys_of[node]) - len(kept)
                    keys_of[node] = kept
    if single_run:
        nodes = tuple(n for n in order if keys_of[n])
        return BackfillPlan((RunGroup(nodes, tuple(keys)),), skipped)
    for node in order:
        found = _waiting(graph, node, keys, keys_of, done, now, dynamic)
        if found:
            waiting.extend(found)
            left_out = {w.key for w in found}
            keys_of[node] = [k for k in keys_of[node] if k not in left_out]
    return BackfillPlan(
        tuple(_groups(graph, order, keys_of, now, dynamic)), skipped, tuple(waiting)
    )


def _lookup(materialized: Mapping[str, Collection[str]] | Materialized | None) -> Materialized:
    if materialized is None:
        return lambda asset, keys: ()
    if callable(materialized):
        return materialized
    facts = materialized
    return lambda asset, keys: {k for k in keys if k in facts.get(asset, ())}


def _groups(
    graph: Graph,
    order: list[str],
    keys_of: Mapping[str, list[str]],
    now: datetime,
    dynamic: DynamicLookup | None,
) -> list[RunGroup]:
    """One group per (space, key), its nodes in order, after the groups of what they read."""
    space_ids = {n: _space_id(graph, n) for n in order}
    group_of: dict[tuple[str, str], int] = {}  # (space id, key) → group index
    members: list[list[str]] = []
    parts: list[str] = []
    for node in order:
        space_id = space_ids[node]
        for key in keys_of[node]:
            slot = (space_id, key)
            index = group_of.get(slot)
            if index is None:
                index = group_of[slot] = len(members)
                members.append([])
                parts.append(key)
            members[index].append(node)
    after: list[set[int]] = [set() for _ in members]
    for node in order:
        keys = keys_of[node]
        for up in graph[node].upstream:
            if up not in keys_of:
                continue
            up_groups = {k: group_of[(space_ids[up], k)] for k in keys_of[up]}
            reads = _reads(graph, node, up, keys, now, dynamic)
            for key, up_keys in zip(keys, reads, strict=True):
                index = group_of[(space_ids[node], key)]
                for up_key in up_keys:
                    other = up_groups.get(up_key)
                    if other is not None and other != index:
                        after[index].add(other)
    groups = [
        RunGroup(tuple(m), (p,) if p else (), tuple(sorted(a)))
        for m, p, a in zip(members, parts, after, strict=True)
    ]
    return _topological(groups)


def _reads(
    graph: Graph,
    node: str,
    up: str,
    keys: Sequence[str],
    now: datetime,
    dynamic: DynamicLookup | None,
) -> list[list[str]]:
    """For each key of ``node``, the keys of ``up`` it reads (``[""]``: all of an unpartitioned
    upstream)."""
    mapping = graph[node].mappings.get(up)
    up_space = graph[up].partitions
    if mapping is None or up_space is None:
        return [[""]] * len(keys)
    return upstream_of_many(
        mapping, keys, up_space, graph[node].partitions, now=now, dynamic=dynamic
    )


def _waiting(
    graph: Graph,
    node: str,
    given: Sequence[str],
    keys_of: Mapping[str, list[str]],
    materialized: Materialized,
    now: datetime,
    dynamic: DynamicLookup | None,
) -> list[Waiting]:
    """The keys of ``node`` reached through a mapping whose upstream keys will not all exist.

    Upstream nodes come first in the plan's order, so their own waiting keys are already gone
    from ``keys_of``: a key waiting on a waiting key waits too."""
    space = graph[node].partitions
    if space is None:
        return []
    ups = [
        up
        for up in graph[node].upstream
        if graph[up].step.kind == "asset"
        and graph[up].partitions is not None
        and graph[node].mappings.get(up) is not None
    ]
    if not ups:
        return []
    candidates = _not_asked(space, given, keys_of[node])
    if not candidates:
        return []
    missing: list[dict[str, tuple[str, ...]]] = [{} for _ in candidates]
    for up in ups:
        mapping = graph[node].mappings[up]
        needs = _reads(graph, node, up, candidates, now, dynamic)
        planned = set(keys_of.get(up, ()))
        unplanned = {k for needed in needs for k in needed if k not in planned}
        there = planned | set(materialized(up, unplanned)) if unplanned else planned
        for i, needed in enumerate(needs):
            if not mapping.is_ready(needed, there):
                missing[i][up] = tuple(k for k in needed if k not in there)
    return [Waiting(node, key, m) for key, m in zip(candidates, missing, strict=True) if m]


def _not_asked(space: PartitionSpace, given: Sequence[str], keys: list[str]) -> list[str]:
    """The keys only reached through a mapping: a key asked for by name is run, and says what
    it lacks."""
    if isinstance(given, SpaceKeys):
        if given.of(space):
            asked = set(given)
            return [] if keys is given else [k for k in keys if k not in asked]
        if not may_share_keys(given.space, space):
            return keys
    asked = {canonical_key(space, k) for k in given}
    return [k for k in keys if k not in asked]


def _space_id(graph: Graph, node: str) -> str:
    space = graph[node].partitions
    return "" if space is None else repr(sorted(space.describe().items()))


def _topological(groups: list[RunGroup]) -> list[RunGroup]:
    """Order groups so each comes after its dependencies (stable), renumbering ``after``."""
    indegree = [len(g.after) for g in groups]
    children: list[list[int]] = [[] for _ in groups]
    for i, group in enumerate(groups):
        for dep in group.after:
            children[dep].append(i)
    ready = deque(i for i, d in enumerate(indegree) if d == 0)
    order: list[int] = []
    while ready:
        i = ready.popleft()
        order.append(i)
        for child in children[i]:
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    position = {old: new for new, old in enumerate(order)}
    return [
        RunGroup(
            groups[i].nodes,
            groups[i].partitions,
            tuple(sorted(position[d] for d in groups[i].after)),
        )
        for i in order
    ]
