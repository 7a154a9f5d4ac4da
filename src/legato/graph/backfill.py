"""Plan a backfill: the (asset, key) targets of a selection over many keys, grouped into runs in
dependency order — a day's run before the roll-up run of its month, upstream spaces first.

A key reached only through a partition mapping (the month of a backfilled day) is planned only if
what it reads will exist: planned by the backfill or already materialized. A month of which the
backfill covers two days is not run to fail; it is reported as waiting, naming the missing keys.

Pure: facts about what is already materialized are handed in.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from legato.definitions.partitions import DynamicLookup
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


def plan_backfill(
    graph: Graph,
    selected: Iterable[str],
    keys: Sequence[str],
    *,
    materialized: Mapping[str, set[str]] | None = None,
    missing_only: bool = False,
    single_run: bool = False,
    now: datetime | None = None,
    dynamic: DynamicLookup | None = None,
) -> BackfillPlan:
    """Group the selection's targets into runs.

    Nodes sharing a partition space and a key run together; unpartitioned nodes run last, in
    one run. ``materialized`` maps asset keys to their materialized partition keys (for the
    selection and its upstream assets). With ``missing_only``, asset keys already materialized
    are left out. A key not given but reached through a mapping is left out as waiting when it
    reads upstream keys that are neither planned nor materialized. With ``single_run``,
    everything is one run over all keys (for steps that process a range at once).
    """
    now = now or datetime.now(UTC)
    order, keys_of = plan_nodes(graph, selected, keys, now=now, dynamic=dynamic)
    skipped: dict[str, int] = {}
    waiting: list[Waiting] = []
    if missing_only and materialized:
        for node in order:
            done = materialized.get(node, set())
            if graph[node].step.kind == "asset" and graph[node].partitions is not None and done:
                kept = [k for k in keys_of[node] if k not in done]
                skipped[node] = len(keys_of[node]) - len(kept)
                keys_of[node] = kept
    if single_run:
        nodes = tuple(n for n in order if keys_of[n])
        return BackfillPlan((RunGroup(nodes, tuple(keys)),), skipped)
    for node in order:
        found = _waiting(graph, node, keys, keys_of, materialized or {}, now, dynamic)
        if found:
            waiting.extend(found)
            left_out = {w.key for w in found}
            keys_of[node] = [k for k in keys_of[node] if k not in left_out]
    space_ids = {n: _space_id(graph, n) for n in order}
    group_of: dict[tuple[str, str], int] = {}  # (space id, key) → group index
    members: list[list[str]] = []
    parts: list[str] = []
    for node in order:
        space_id = space_ids[node]
        for key in keys_of[node]:
            slot = (space_id, key)
            if slot not in group_of:
                group_of[slot] = len(members)
                members.append([])
                parts.append(key)
            members[group_of[slot]].append(node)
    node_group = {
        (node, key): group_of[(space_ids[node], key)] for node in order for key in keys_of[node]
    }
    after: list[set[int]] = [set() for _ in members]
    for (node, key), index in node_group.items():
        for up in graph[node].upstream:
            if up not in keys_of:
                continue
            mapping = graph[node].mappings.get(up)
            up_space = graph[up].partitions
            if mapping is None or up_space is None:
                up_keys = [""]
            else:
                up_keys = mapping.upstream_keys(
                    key or None, up_space, graph[node].partitions, now=now, dynamic=dynamic
                )
            for up_key in up_keys:
                other = node_group.get((up, up_key))
                if other is not None and other != index:
                    after[index].add(other)
    groups = [
        RunGroup(tuple(m), (p,) if p else (), tuple(sorted(a)))
        for m, p, a in zip(members, parts, after, strict=True)
    ]
    return BackfillPlan(tuple(_topological(groups)), skipped, tuple(waiting))


def _waiting(
    graph: Graph,
    node: str,
    given: Sequence[str],
    keys_of: Mapping[str, list[str]],
    materialized: Mapping[str, set[str]],
    now: datetime,
    dynamic: DynamicLookup | None,
) -> list[Waiting]:
    """The keys of ``node`` reached through a mapping whose upstream keys will not all exist.

    Upstream nodes come first in the plan's order, so their own waiting keys are already gone
    from ``keys_of``: a key waiting on a waiting key waits too."""
    space = graph[node].partitions
    if space is None:
        return []
    asked = {canonical_key(space, k) for k in given}
    ups = [
        up
        for up in graph[node].upstream
        if graph[up].step.kind == "asset"
        and graph[up].partitions is not None
        and graph[node].mappings.get(up) is not None
    ]
    found = []
    for key in keys_of[node]:
        if key in asked:  # asked for by name: run it, and let it say what it lacks
            continue
        missing: dict[str, tuple[str, ...]] = {}
        for up in ups:
            mapping = graph[node].mappings[up]
            needed = mapping.upstream_keys(
                key, graph[up].partitions, space, now=now, dynamic=dynamic
            )
            there = set(keys_of.get(up, ())) | materialized.get(up, set())
            if not mapping.is_ready(needed, there):
                missing[up] = tuple(k for k in needed if k not in there)
        if missing:
            found.append(Waiting(node, key, missing))
    return found


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
