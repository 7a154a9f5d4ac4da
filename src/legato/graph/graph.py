"""The immutable graph of assets and tasks: nodes, their resolved inputs, and edges."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from legato.definitions.partitions import PartitionMapping, PartitionSpace
from legato.definitions.step import StepDef
from legato.graph.step_contracts import StepContract


@dataclass(frozen=True)
class Node:
    """A step definition with its parameters resolved against the rest of the project."""

    step: StepDef
    inputs: Mapping[str, str] = field(default_factory=dict)  # parameter → upstream key
    resources: Mapping[str, str] = field(default_factory=dict)  # parameter → resource name
    context_param: str | None = None
    config_param: str | None = None  # the parameter typed as a config model
    upstream: tuple[str, ...] = ()  # every upstream key: inputs then order-only deps
    mappings: Mapping[str, PartitionMapping] = field(default_factory=dict)  # upstream → mapping
    contract: StepContract = field(default_factory=StepContract)  # what it returns and expects

    @property
    def partitions(self) -> PartitionSpace | None:
        return self.step.partitions

    @property
    def key(self) -> str:
        return self.step.key


@dataclass(frozen=True)
class Graph:
    """Assets and tasks of one project, in topological order."""

    nodes: Mapping[str, Node]
    order: tuple[str, ...]
    downstream: Mapping[str, tuple[str, ...]]
    checks_of: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # asset → its checks

    def __contains__(self, key: object) -> bool:
        return key in self.nodes

    def __getitem__(self, key: str) -> Node:
        return self.nodes[key]

    def upstream_closure(self, keys: Iterable[str], depth: int | None = None) -> set[str]:
        """Keys upstream of ``keys`` (not including them), up to ``depth`` levels."""
        return walk(keys, lambda k: self.nodes[k].upstream, depth)

    def downstream_closure(self, keys: Iterable[str], depth: int | None = None) -> set[str]:
        """Keys downstream of ``keys`` (not including them), up to ``depth`` levels."""
        return walk(keys, lambda k: self.downstream.get(k, ()), depth)

    def blocking_checks(self, asset: str) -> tuple[str, ...]:
        """The checks of ``asset`` whose failure stops its downstream steps."""
        checks = self.checks_of.get(asset, ())
        return tuple(c for c in checks if (info := self.nodes[c].step.check) and info.blocking)

    def sorted(self, keys: Iterable[str]) -> list[str]:
        """``keys`` in topological order."""
        wanted = set(keys)
        return [k for k in self.order if k in wanted]


def walk(
    start: Iterable[str], edges: Callable[[str], Iterable[str]], depth: int | None
) -> set[str]:
    """Keys reachable from ``start`` through ``edges`` (not ``start`` itself), ``depth`` levels."""
    seen: set[str] = set()
    frontier = list(start)
    level = 0
    while frontier and (depth is None or level < depth):
        nxt = []
        for key in frontier:
            for other in edges(key):
                if other not in seen:
                    seen.add(other)
                    nxt.append(other)
        frontier = nxt
        level += 1
    return seen
