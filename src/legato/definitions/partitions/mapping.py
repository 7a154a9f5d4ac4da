"""Partition mappings: which upstream keys a downstream key reads, and the reverse.

Each mapping is a small frozen value with ``upstream_keys(downstream_key, up_space, down_space)``
and ``downstream_keys(upstream_key, up_space, down_space)`` (``now=``/``dynamic=`` go to the
spaces). They are inverse (``u in upstream_keys(d)`` exactly when ``d in downstream_keys(u)``) and
never return a key outside its space (time mappings clip at the first and last keys). An
unpartitioned asset has space ``None`` and key ``None``; its side's key list is always empty, and
means "the whole asset".

This module holds the base class and the mappings that compare keys as they are (Identity,
StaticMap, AllPartitions, Unpartitioned); time windows map in ``time_mapping``, dimensions of a
product in ``dimension_mapping``, and :func:`~legato.definitions.partitions.infer.infer_mapping`
picks the obvious mapping or says which to pass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from legato.definitions.partitions.base import DynamicLookup, PartitionSpace, resolve_now
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
