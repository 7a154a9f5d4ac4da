"""Partition mappings: which upstream keys a downstream key reads, and the reverse.

Each mapping is a small frozen value with ``upstream_keys(downstream_key, up_space, down_space)``
and ``downstream_keys(upstream_key, up_space, down_space)`` (``now=``/``dynamic=`` go to the
spaces). They are inverse (``u in upstream_keys(d)`` exactly when ``d in downstream_keys(u)``) and
never return a key outside its space (time mappings clip at the first and last keys). An
unpartitioned asset has space ``None`` and key ``None``; its side's key list is always empty, and
means "the whole asset". :func:`infer_mapping` picks the obvious mapping or says which to pass.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from legato.definitions.partitions.base import (
    DynamicLookup,
    PartitionSpace,
    lookup_dynamic_as_of,
    resolve_now,
)
from legato.definitions.partitions.dynamic import DynamicPartitions
from legato.definitions.partitions.keys import check_dimension_name
from legato.definitions.partitions.product import (
    ProductPartitions,
    dimensions_of,
    join_values,
    split_key,
)
from legato.definitions.partitions.time import TimeWindowPartitions
from legato.errors import PartitionError

Space = PartitionSpace | None
Lookup = DynamicLookup | None
Key = str | None


class PartitionMapping(ABC):
    """How a downstream partition depends on upstream partitions."""

    def upstream_keys(
        self,
        downstream_key: str | None,
        up_space: Space,
        down_space: Space,
        *,
        now: datetime | None = None,
        dynamic: Lookup = None,
    ) -> list[str]:
        """The upstream keys that ``downstream_key`` reads (and waits for)."""
        return self._upstream(downstream_key, up_space, down_space, resolve_now(now), dynamic)

    def optional_upstream_keys(
        self,
        downstream_key: str | None,
        up_space: Space,
        down_space: Space,
        *,
        now: datetime | None = None,
        dynamic: Lookup = None,
    ) -> list[str]:
        """Upstream keys ``downstream_key`` also reads when they have a value, but never waits
        for (none, unless the mapping says otherwise)."""
        return self._optional(downstream_key, up_space, down_space, resolve_now(now), dynamic)

    def _optional(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        return []

    def downstream_keys(
        self,
        upstream_key: str | None,
        up_space: Space,
        down_space: Space,
        *,
        now: datetime | None = None,
        dynamic: Lookup = None,
    ) -> list[str]:
        """The downstream keys that read ``upstream_key``."""
        return self._downstream(upstream_key, up_space, down_space, resolve_now(now), dynamic)

    @abstractmethod
    def _upstream(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        """``upstream_keys`` with ``now`` resolved."""

    @abstractmethod
    def _downstream(
        self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup
    ) -> list[str]:
        """``downstream_keys`` with ``now`` resolved."""

    def check(self, up_space: Space, down_space: Space) -> None:
        """Raise PartitionError if this mapping cannot connect these two spaces."""
        self._space(up_space, "upstream")
        self._space(down_space, "downstream")

    def is_ready(self, required: Sequence[str], materialized: Collection[str]) -> bool:
        """True when enough of the ``required`` upstream keys are materialized (default: all)."""
        return all(key in materialized for key in required)

    def describe(self) -> dict[str, Any]:
        """A stable JSON-able description, for snapshots and the API."""
        names = getattr(self, "__dataclass_fields__", {})
        return {"kind": type(self).__name__, **{n: _plain(getattr(self, n)) for n in names}}

    def _space(self, space: Space, side: str) -> PartitionSpace:
        if space is None:
            raise PartitionError(
                f"{type(self).__name__}() needs a partitioned {side} asset",
                obj=type(self).__name__,
                hint="use AllPartitions() when the downstream asset is "
                "unpartitioned and Unpartitioned() when the upstream asset is",
            )
        return space

    def _time(self, space: Space, side: str) -> TimeWindowPartitions:
        if isinstance(checked := self._space(space, side), TimeWindowPartitions):
            return checked
        raise PartitionError(
            f"{type(self).__name__}() maps time windows, but the {side} space is {space!r}",
            obj=type(self).__name__,
            hint="for the time dimension of a product use Dimension(mappings={'date': ...})",
        )

    def _key(
        self, space: PartitionSpace, key: str | None, side: str, now: datetime, dynamic: Lookup
    ) -> str:
        if key is None:
            raise PartitionError(
                f"{type(self).__name__}() got no {side} key, but the {side} "
                f"asset is partitioned ({space.summary()})",
                obj=type(self).__name__,
                hint=f"pass the {side} partition key",
            )
        space.validate_key(key, now, dynamic)
        return key


def _plain(value: object) -> Any:
    if isinstance(value, PartitionMapping):
        return value.describe()
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    return value


@dataclass(frozen=True)
class _Overlap(PartitionMapping):
    """Time windows by overlap, moved by ``offset`` upstream windows and widened back by
    ``lookback`` more: the arithmetic shared by TimeWindow, RollUp and FanOut."""

    def _upstream(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        ups, downs = self._time(up, "upstream"), self._time(down, "downstream")
        offset, lookback = self._shape
        start = downs.instant_of(self._key(downs, key, "downstream", now, dyn))
        assert start is not None  # validated
        end = downs.timeline.next_ge(start + 1)
        first, last = ups.timeline.prev_le(start), ups.timeline.prev_le(end - 1)
        return ups.keys_starting(
            ups.shift(first, offset - lookback), ups.shift(last, offset) + 1, now
        )

    def _downstream(
        self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup
    ) -> list[str]:
        ups, downs = self._time(up, "upstream"), self._time(down, "downstream")
        offset, lookback = self._shape
        start = ups.instant_of(self._key(ups, key, "upstream", now, dyn))
        assert start is not None  # validated
        # the downstream windows reading this one overlap upstream windows -offset .. +lookback
        reach_lo, reach_hi = ups.shift(start, -offset), ups.shift(start, lookback + 1 - offset)
        return downs.keys_starting(downs.timeline.prev_le(reach_lo), reach_hi, now)

    @property
    def _shape(self) -> tuple[int, int]:
        return getattr(self, "offset", 0), getattr(self, "lookback", 0)

    def check(self, up_space: Space, down_space: Space) -> None:
        up, down = self._time(up_space, "upstream"), self._time(down_space, "downstream")
        fine, coarse = (up, down) if isinstance(self, RollUp) else (down, up)
        if isinstance(self, RollUp | FanOut) and not fine.fits_in(coarse):
            raise PartitionError(
                f"{type(self).__name__}(): the windows of {fine.summary()} do not fit inside "
                f"those of {coarse.summary()}",
                obj=type(self).__name__,
                hint="use TimeWindow() to read every overlapping upstream window",
            )


def _check_int(owner: str, name: str, value: object, minimum: int | None) -> None:
    low = "an int" if minimum is None else f"an int >= {minimum}"
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or (minimum is not None and value < minimum)
    ):
        raise PartitionError(
            f"{owner}({name}={value!r}) must be {low}",
            obj=repr(value),
            hint=f"e.g. {owner}({name}=1)",
        )


@dataclass(frozen=True)
class TimeWindow(_Overlap):
    """Each downstream window reads the upstream windows it overlaps, moved ``offset`` upstream
    windows later (negative: earlier), plus ``lookback`` earlier ones.

    ``TimeWindow()`` is the same window; ``TimeWindow(offset=-1)`` the previous one;
    ``TimeWindow(lookback=6)`` the last 7 days including today; ``TimeWindow(offset=-1,
    lookback=6)`` the previous 7 days. Windows before the upstream's first key are left out.
    """

    offset: int = 0
    lookback: int = 0

    def __post_init__(self) -> None:
        _check_int("TimeWindow", "offset", self.offset, None)
        _check_int("TimeWindow", "lookback", self.lookback, 0)


@dataclass(frozen=True)
class RollUp(_Overlap):
    """A coarse downstream window reads every fine upstream window inside it (days -> month).

    ``min_count``: the downstream may run once that many of them are materialized (None: all).
    """

    min_count: int | None = None

    def __post_init__(self) -> None:
        if self.min_count is not None:
            _check_int("RollUp", "min_count", self.min_count, 1)

    def is_ready(self, required: Sequence[str], materialized: Collection[str]) -> bool:
        need = len(required) if self.min_count is None else min(self.min_count, len(required))
        return sum(1 for key in required if key in materialized) >= need


@dataclass(frozen=True)
class FanOut(_Overlap):
    """Each fine downstream window reads the coarse upstream window containing it (month -> days);
    the inverse of :class:`RollUp`."""


@dataclass(frozen=True)
class Identity(PartitionMapping):
    """The downstream key reads the upstream key with the same name (when the upstream has it)."""

    def _upstream(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        return self._same(key, down, up, "downstream", now, dyn)

    def _downstream(
        self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup
    ) -> list[str]:
        return self._same(key, up, down, "upstream", now, dyn)

    def _same(
        self, key: Key, source: Space, target: Space, side: str, now: datetime, dyn: Lookup
    ) -> list[str]:
        if source is None and target is None:
            return []
        checked = self._key(self._space(source, side), key, side, now, dyn)
        other = "upstream" if side == "downstream" else "downstream"
        return [checked] if self._space(target, other).contains(checked, now, dyn) else []

    def check(self, up_space: Space, down_space: Space) -> None:
        if (up_space is None) != (down_space is None):
            super().check(up_space, down_space)


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


@dataclass(frozen=True, init=False)
class StaticMap(PartitionMapping):
    """Explicit pairs, upstream key -> the downstream keys that read it:
    ``StaticMap({"eu": ["de", "fr"], "us": ["us"]})``."""

    pairs: tuple[tuple[str, tuple[str, ...]], ...]

    def __init__(self, mapping: Mapping[str, str | Sequence[str]]) -> None:
        pairs = []
        for up, downs in mapping.items() if isinstance(mapping, Mapping) else ():
            targets = (downs,) if isinstance(downs, str) else tuple(downs)
            if (
                not isinstance(up, str)
                or not up
                or not all(isinstance(d, str) and d for d in targets)
            ):
                raise PartitionError(
                    f"StaticMap entry {up!r}: {downs!r} is not keys",
                    obj=repr(up),
                    hint="map a key to a key or a list of keys",
                )
            pairs.append((up, targets))
        if not pairs:
            raise PartitionError(
                f"StaticMap({mapping!r}) needs a non-empty mapping",
                obj=repr(mapping),
                hint="e.g. StaticMap({'a': ['x', 'y']})",
            )
        object.__setattr__(self, "pairs", tuple(pairs))

    def _upstream(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        ups, downs = self._space(up, "upstream"), self._space(down, "downstream")
        key = self._key(downs, key, "downstream", now, dyn)
        return [u for u, targets in self.pairs if key in targets and ups.contains(u, now, dyn)]

    def _downstream(
        self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup
    ) -> list[str]:
        ups, downs = self._space(up, "upstream"), self._space(down, "downstream")
        key = self._key(ups, key, "upstream", now, dyn)
        return [d for d in dict(self.pairs).get(key, ()) if downs.contains(d, now, dyn)]


@dataclass(frozen=True)
class AllPartitions(PartitionMapping):
    """Every downstream key reads every upstream key (typical for an unpartitioned reader)."""

    def _upstream(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        return list(self._space(up, "upstream").keys(now, dyn))

    def _downstream(
        self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup
    ) -> list[str]:
        self._space(up, "upstream")
        return [] if down is None else list(down.keys(now, dyn))

    def check(self, up_space: Space, down_space: Space) -> None:
        self._space(up_space, "upstream")


@dataclass(frozen=True)
class Unpartitioned(PartitionMapping):
    """A partitioned asset reads an unpartitioned one: every key reads the whole upstream, and a
    change upstream touches every downstream key."""

    def _upstream(self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup) -> list[str]:
        self.check(up, down)
        return []

    def _downstream(
        self, key: Key, up: Space, down: Space, now: datetime, dyn: Lookup
    ) -> list[str]:
        self.check(up, down)
        return [] if down is None else list(down.keys(now, dyn))

    def check(self, up_space: Space, down_space: Space) -> None:
        if up_space is not None:
            raise PartitionError(
                f"Unpartitioned() is for an unpartitioned upstream, but it has {up_space!r}",
                obj="Unpartitioned",
                hint="use AllPartitions() to read every upstream key",
            )


def infer_mapping(up_space: Space, down_space: Space) -> PartitionMapping:
    """The obvious mapping between two spaces; PartitionError naming the choices if none is."""
    if up_space is None:
        return Identity() if down_space is None else Unpartitioned()
    if down_space is None:
        return AllPartitions()
    if up_space == down_space:
        return Identity()
    if isinstance(up_space, TimeWindowPartitions) and isinstance(down_space, TimeWindowPartitions):
        return _infer_time(up_space, down_space)
    if isinstance(up_space, ProductPartitions) or isinstance(down_space, ProductPartitions):
        up, down = dimensions_of(up_space), dimensions_of(down_space)
        shared = [name for name in down if name in up]
        if shared:
            rules = {n: infer_mapping(up[n], down[n]) for n in shared if up[n] != down[n]}
            return Dimension(mappings={n: m for n, m in rules.items() if m != Identity()})
    raise PartitionError(
        f"no obvious partition mapping from {up_space.summary()} to {down_space.summary()}",
        obj=f"{up_space.summary()} -> {down_space.summary()}",
        hint="pass one: Identity() (same keys), StaticMap({...}), Dimension(on=...) "
        "or AllPartitions()",
    )


def _infer_time(up: TimeWindowPartitions, down: TimeWindowPartitions) -> PartitionMapping:
    if up.timezone == down.timezone and up.cron == down.cron:
        return Identity() if up.fmt == down.fmt else TimeWindow()
    calendar = len(up.timeline.cron.offsets) == 1 and len(down.timeline.cron.offsets) == 1
    if up.timezone == down.timezone and calendar:
        if up.fits_in(down):
            return RollUp()
        if down.fits_in(up):
            return FanOut()
    reason = "the time zones differ" if up.timezone != down.timezone else "no calendar roll-up fits"
    raise PartitionError(
        f"no obvious mapping from {up.summary()} to {down.summary()}: {reason}",
        obj=f"{up.cadence} -> {down.cadence}",
        hint="pass one: RollUp() (every upstream window "
        "inside the downstream one), TimeWindow() (the overlapping ones; offset=-1 the previous, "
        "lookback= more) or FanOut() (the upstream window containing the downstream one)",
    )
