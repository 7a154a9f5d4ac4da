"""StaticPartitions: a fixed, declared list of keys (regions, customers, model variants)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from legato.definitions.partitions.base import DynamicLookup, PartitionSpace
from legato.definitions.partitions.keys import check_dimension_name, check_key
from legato.errors import PartitionError


class StaticPartitions(PartitionSpace):
    """A fixed list of keys, in the order given; duplicates and invalid keys are refused.

    ``name`` is the dimension name this space takes in a product (``region * daily`` gives keys
    ``region=eu,date=2024-01-01``).

    Example:
        >>> regions = StaticPartitions(["eu", "us", "apac"], name="region")
    """

    def __init__(self, keys: Iterable[str], *, name: str = "static") -> None:
        if isinstance(keys, str):
            raise PartitionError(
                f"StaticPartitions({keys!r}) got one string, not a list of keys",
                obj=keys,
                hint=f"write StaticPartitions([{keys!r}])",
            )
        self.name = check_dimension_name(name)
        values = tuple(keys)
        index: dict[str, int] = {}
        for position, key in enumerate(values):
            check_key(key, what=f"static partition key #{position}")
            if key in index:
                raise PartitionError(
                    f"static partition key {key!r} is listed twice (#{index[key]} and #{position})",
                    obj=key,
                    hint="list each key once",
                )
            index[key] = position
        if not values:
            raise PartitionError(
                "StaticPartitions needs at least one key",
                obj="[]",
                hint="list the keys, e.g. StaticPartitions(['eu', 'us'])",
            )
        self._keys = values
        self._index = index

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return (self.name,)

    def keys(
        self, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> tuple[str, ...]:
        return self._keys

    def count(self, now: datetime | None = None, dynamic: DynamicLookup | None = None) -> int:
        return len(self._keys)

    def contains(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> bool:
        return isinstance(key, str) and key in self._index

    def index_of(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> int:
        self.validate_key(key)
        return self._index[key]

    def describe(self) -> dict[str, Any]:
        return {"kind": "static", "name": self.name, "keys": list(self._keys)}

    def summary(self) -> str:
        return f"static partitions {self.name!r} ({len(self._keys)} keys)"

    def _explain_range(self, now: datetime | None, dynamic: DynamicLookup | None) -> str:
        shown = ", ".join(repr(k) for k in self._keys[:10])
        more = f" and {len(self._keys) - 10} more" if len(self._keys) > 10 else ""
        return f"valid keys are {shown}{more}"
