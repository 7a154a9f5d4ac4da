"""Partition mappings over many keys at once: what planning a backfill of 100,000 keys asks.

A mapping's per-key methods check each key they are given (a parse, a lookup), and a plan asks
the same mapping about every key of a range. Here keys a space produced itself (:class:`SpaceKeys`)
are not checked again, and mappings are asked once per distinct answer: Identity between equal
spaces passes keys through, Dimension asks once per value of the dimensions it matches (a daily
roll-up of ``tenant * date`` keys asks once per date), and time-window mappings map a contiguous
range by its two ends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from legato.definitions.partitions.base import DynamicLookup, PartitionSpace
from legato.definitions.partitions.dimension_mapping import Dimension
from legato.definitions.partitions.mapping import Identity, PartitionMapping
from legato.definitions.partitions.product import ProductPartitions, dimensions_of
from legato.definitions.partitions.time import TimeWindowPartitions
from legato.definitions.partitions.time_mapping import _Overlap


class SpaceKeys(list[str]):
    """Keys of ``space`` in its canonical form, produced by the space itself (a range of it), so
    nothing checks them again; ``contiguous`` when they are every key from the first to the last.
    """

    def __init__(
        self, space: PartitionSpace, keys: Iterable[str], *, contiguous: bool = False
    ) -> None:
        super().__init__(keys)
        self.space = space
        self.contiguous = contiguous

    def of(self, space: PartitionSpace | None) -> bool:
        """Whether these are known to be keys of ``space``."""
        return space is not None and same_space(self.space, space)


def same_space(a: PartitionSpace | None, b: PartitionSpace | None) -> bool:
    return a is b or (a is not None and b is not None and a == b)


def may_share_keys(a: PartitionSpace, b: PartitionSpace) -> bool:
    """False when no key of ``a`` can be a key of ``b``: a product key has ``=`` and ``,``, which
    a single dimension's keys never contain."""
    return isinstance(a, ProductPartitions) == isinstance(b, ProductPartitions)


def downstream_of_many(
    mapping: PartitionMapping,
    keys: Sequence[str],
    up: PartitionSpace,
    down: PartitionSpace,
    *,
    now: datetime,
    dynamic: DynamicLookup | None,
) -> list[str]:
    """The downstream keys that read any of ``keys`` (keys of ``up``), each once, in order."""
    if isinstance(mapping, Identity) and same_space(up, down):
        return keys if isinstance(keys, SpaceKeys) else list(keys)
    if isinstance(mapping, _Overlap) and isinstance(keys, SpaceKeys) and keys.contiguous:
        found = _overlap_range(mapping, keys, up, down, now, dynamic)
        if found is not None:
            return found
    asked: Iterable[str] = keys
    if isinstance(mapping, Dimension) and isinstance(up, ProductPartitions):
        asked = _one_per_match(mapping, keys, up, down)
    out: dict[str, None] = {}
    for key in asked:
        out.update(dict.fromkeys(mapping.downstream_keys(key, up, down, now=now, dynamic=dynamic)))
    return list(out)


def upstream_of_many(
    mapping: PartitionMapping,
    keys: Sequence[str],
    up: PartitionSpace | None,
    down: PartitionSpace | None,
    *,
    now: datetime,
    dynamic: DynamicLookup | None,
) -> list[list[str]]:
    """For each of ``keys`` (keys of ``down``; ``""`` when it is unpartitioned), the upstream
    keys it reads."""
    if isinstance(mapping, Identity) and up is not None and same_space(up, down):
        return [[key] for key in keys]
    return [mapping.upstream_keys(key or None, up, down, now=now, dynamic=dynamic) for key in keys]


def _one_per_match(
    mapping: Dimension, keys: Sequence[str], up: ProductPartitions, down: PartitionSpace
) -> list[str]:
    """One key for each combination of values of the dimensions ``mapping`` matches: the
    downstream keys of a key depend on those values alone. Keys are canonical, so the i-th
    ``name=value`` part of a key is its i-th dimension."""
    matched = mapping._matched(dimensions_of(up), dimensions_of(down))
    positions = [i for i, name in enumerate(up.dimension_names) if name in matched]
    first: dict[tuple[str, ...], str] = {}
    for key in keys:
        parts = key.split(",")
        first.setdefault(tuple(parts[i] for i in positions), key)
    return list(first.values())


def _overlap_range(
    mapping: _Overlap,
    keys: SpaceKeys,
    up: PartitionSpace,
    down: PartitionSpace,
    now: datetime,
    dynamic: DynamicLookup | None,
) -> SpaceKeys | None:
    """Every key of a contiguous range of windows maps to a contiguous range of windows, so the
    range maps by its ends; None when an end maps to nothing (clipped at the space's edge)."""
    if not keys or not keys.of(up) or not isinstance(down, TimeWindowPartitions):
        return None
    first = mapping.downstream_keys(keys[0], up, down, now=now, dynamic=dynamic)
    last = mapping.downstream_keys(keys[-1], up, down, now=now, dynamic=dynamic)
    if not first or not last:
        return None
    between = down.keys_between(first[0], last[-1], now, dynamic)
    return SpaceKeys(down, between, contiguous=True)
