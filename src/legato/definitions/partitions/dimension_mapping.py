"""Mapping keys of products dimension by dimension: matched dimensions map by a mapping of
their own (Identity unless told), an upstream-only dimension is read whole (fan-in), a
downstream-only one is ignored (projection)."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from legato.definitions.partitions.base import PartitionSpace, lookup_dynamic_as_of
from legato.definitions.partitions.dynamic import DynamicPartitions
from legato.definitions.partitions.keys import check_dimension_name
from legato.definitions.partitions.mapping import Identity, Key, Lookup, PartitionMapping, Space
from legato.definitions.partitions.product import dimensions_of, join_values, split_key
from legato.definitions.partitions.time import TimeWindowPartitions
from legato.errors import PartitionError


def _window_end(
    dims: Mapping[str, PartitionSpace], values: Mapping[str, str], matched: set[str]
) -> datetime | None:
    """The latest end of the time windows among the matched dimensions of a key, if any."""
    ends = [
        space.window(values[name]).end.astimezone(UTC)
        for name, space in dims.items()
        if name in matched and isinstance(space, TimeWindowPartitions)
    ]
    return max(ends, default=None)


@dataclass(frozen=True, init=False)
class Dimension(PartitionMapping):
    """Match keys on the dimensions two spaces share; read every key of an upstream-only
    dimension (fan-in), ignore a downstream-only one (projection).

    ``Dimension()`` matches every shared dimension name: a per-date asset reading a
    ``tenant * date`` asset reads all tenants of its date, and a ``tenant * date`` asset reading a
    per-date asset reads its date. ``Dimension("date")`` matches only ``date``;
    ``Dimension(mappings={"date": TimeWindow(offset=-1)})`` maps a matched dimension with another
    mapping instead of :class:`Identity`.
    """

    on: tuple[str, ...] | None
    mappings: tuple[tuple[str, PartitionMapping], ...]

    def __init__(
        self,
        on: str | Sequence[str] | None = None,
        mappings: Mapping[str, PartitionMapping] | None = None,
    ) -> None:
        names = (on,) if isinstance(on, str) else None if on is None else tuple(on)
        for name in names or ():
            check_dimension_name(name)
        items = tuple(sorted((mappings or {}).items()))
        for name, mapping in items:
            if not isinstance(mapping, PartitionMapping) or (names and name not in names):
                raise PartitionError(
                    f"Dimension(mappings={{{name!r}: {mapping!r}}}) does not map a matched "
                    "dimension",
                    obj=name,
                    hint="map only dimensions in on=, with a mapping such as TimeWindow()",
                )
        if names == ():
            raise PartitionError(
                "Dimension(on=()) matches nothing",
                obj="Dimension",
                hint="use AllPartitions() to read every upstream key",
            )
        object.__setattr__(self, "on", names)
        object.__setattr__(self, "mappings", items)

    def _matched(self, up: dict[str, PartitionSpace], down: dict[str, PartitionSpace]) -> set[str]:
        names = self.on if self.on is not None else tuple(n for n in down if n in up)
        missing = [
            f"the {side} space has no dimension {n!r} (only {', '.join(dims)})"
            for n in names
            for side, dims in (("upstream", up), ("downstream", down))
            if n not in dims
        ]
        if missing or not names:
            problem = "; ".join(missing) or (
                f"the spaces share no dimension name (upstream "
                f"{', '.join(up)}; downstream {', '.join(down)})"
            )
            raise PartitionError(
                f"Dimension(): {problem}",
                obj="Dimension",
                hint="pass on= with shared names, or AllPartitions()/StaticMap()",
            )
        return set(names)

    def _optional(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        """Keys of an upstream-only dynamic dimension added after the downstream window ended:
        read when they have a value (a tenant onboarded with its history), never waited for."""
        every = self._map(key, down, up, True, now, dyn, all_keys=True)
        needed = set(self._map(key, down, up, True, now, dyn))
        return [k for k in every if k not in needed]

    def _map(
        self,
        key: Key,
        source: Space,
        target: Space,
        upward: bool,
        now: datetime,
        dynamic: Lookup,
        *,
        all_keys: bool = False,
    ) -> list[str]:
        side, other = ("downstream", "upstream") if upward else ("upstream", "downstream")
        src, dst = self._space(source, side), self._space(target, other)
        values = split_key(src, self._key(src, key, side, now, dynamic))
        src_dims, dst_dims = dimensions_of(src), dimensions_of(dst)
        matched = self._matched(dst_dims, src_dims) if upward else self._matched(src_dims, dst_dims)
        rules = dict(self.mappings)
        axes: list[Sequence[str]] = []
        as_of = None if all_keys else _window_end(src_dims, values, matched)
        for name, space in dst_dims.items():
            rule = rules.get(name, Identity())
            if name not in matched and isinstance(space, DynamicPartitions) and as_of is not None:
                # every tenant of a day means the tenants there were by the end of that day: one
                # onboarded later must not hold its roll-up back (it is read if it has a value)
                axes.append(lookup_dynamic_as_of(dynamic, space.name, as_of))
            elif name not in matched:
                axes.append(space.keys(now, dynamic))
            elif upward:
                axes.append(
                    rule.upstream_keys(
                        values[name], space, src_dims[name], now=now, dynamic=dynamic
                    )
                )
            else:
                axes.append(
                    rule.downstream_keys(
                        values[name], src_dims[name], space, now=now, dynamic=dynamic
                    )
                )
        return [join_values(dst, combo) for combo in itertools.product(*axes)]

    def _upstream(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        return self._map(key, down, up, True, now, dyn)

    def _downstream(
        self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup
    ) -> list[str]:
        return self._map(key, up, down, False, now, dyn)

    def check(self, up_space: Space, down_space: Space) -> None:
        up = dimensions_of(self._space(up_space, "upstream"))
        down = dimensions_of(self._space(down_space, "downstream"))
        rules = dict(self.mappings)
        for name in self._matched(up, down):
            rules.get(name, Identity()).check(up[name], down[name])
