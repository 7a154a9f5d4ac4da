"""ProductPartitions: the cartesian product of any number of partition spaces.

``tenants * regions * daily`` (or ``ProductPartitions({"tenant": ..., "date": ...})``) has one key
per combination, written in the canonical form ``tenant=acme,region=eu,date=2024-01-01`` with the
dimensions in declared order. Dimensions may be of any kind, including several independent dynamic
sets. The product never lists its keys to count them or test membership: ``count`` multiplies the
dimensions' counts, ``contains`` asks each dimension, and ``keys()`` is a lazy sequence indexed in
mixed radix (the last dimension varies fastest, as in ``itertools.product``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from functools import partial
from typing import Any, overload

from legato.definitions.partitions.base import DynamicLookup, PartitionSpace
from legato.definitions.partitions.keys import (
    MultiPartitionKey,
    check_dimension_name,
    format_multi_key,
    parse_multi_key,
)
from legato.errors import PartitionError


class ProductPartitions(PartitionSpace):
    """The product of named dimensions, each a non-product space.

    Example:
        >>> space = ProductPartitions({"tenant": DynamicPartitions("tenants"),
        ...                            "date": DailyPartitions("2024-01-01")})
        >>> space.key(tenant="acme", date="2024-01-02")
        'tenant=acme,date=2024-01-02'
    """

    def __init__(self, dimensions: Mapping[str, PartitionSpace]) -> None:
        if not isinstance(dimensions, Mapping):
            raise PartitionError(
                f"ProductPartitions({dimensions!r}) needs a mapping",
                obj=repr(dimensions),
                hint="pass {'dimension': space, ...} or write space_a * space_b",
            )
        items = tuple(dimensions.items())
        if len(items) < 2:
            raise PartitionError(
                f"a product needs at least two dimensions, got {len(items)}",
                obj=repr(list(dimensions)),
                hint="use the single space itself",
            )
        for name, space in items:
            check_dimension_name(name)
            if isinstance(space, ProductPartitions):
                raise PartitionError(
                    f"dimension {name!r} is itself a product",
                    obj=name,
                    hint="list its dimensions in this product instead (a * b * c)",
                )
            if not isinstance(space, PartitionSpace):
                raise PartitionError(
                    f"dimension {name!r} is {space!r}, not a partition space",
                    obj=name,
                    hint="use DailyPartitions, StaticPartitions, ...",
                )
        self.dimensions: tuple[tuple[str, PartitionSpace], ...] = items
        self._spaces = dict(items)

    @classmethod
    def of(cls, *spaces: PartitionSpace) -> ProductPartitions:
        """The product of ``spaces`` (products are flattened), named by each space's dimension."""
        items: list[tuple[str, PartitionSpace]] = []
        for space in spaces:
            if isinstance(space, ProductPartitions):
                items.extend(space.dimensions)
            else:
                items.append((space.dimension_names[0], space))
        names = [name for name, _ in items]
        for name in names:
            if names.count(name) > 1:
                raise PartitionError(
                    f"two dimensions of the product are both named {name!r}",
                    obj=name,
                    hint="name them: ProductPartitions({'a': ..., 'b': ...}), or pass name= to "
                    "StaticPartitions/DailyPartitions, or use two dynamic set names",
                )
        return cls(dict(items))

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.dimensions)

    def dimension(self, name: str) -> PartitionSpace:
        """The space of dimension ``name``."""
        try:
            return self._spaces[name]
        except KeyError:
            raise PartitionError(
                f"the product has no dimension {name!r}",
                obj=name,
                hint=f"its dimensions are {', '.join(self.dimension_names)}",
            ) from None

    def key(self, values: Mapping[str, str] | None = None, **kwargs: str) -> str:
        """The canonical key for one value per dimension (any order in, declared order out)."""
        merged = {**(values or {}), **kwargs}
        return format_multi_key(merged, self.dimension_names)

    def split(self, key: str) -> MultiPartitionKey:
        """The key's value per dimension, in declared order; PartitionError if it is malformed."""
        cache = self.__dict__.setdefault("_splits", {})
        found = cache.get(key)
        if found is None:  # planning splits the same keys many times; keys are immutable
            found = parse_multi_key(key, self.dimension_names).ordered(self.dimension_names)
            if len(cache) < 500_000:
                cache[key] = found
        return found  # type: ignore[no-any-return]

    def keys(
        self, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> ProductKeys:
        return ProductKeys(self, [space.keys(now, dynamic) for _, space in self.dimensions])

    def count(self, now: datetime | None = None, dynamic: DynamicLookup | None = None) -> int:
        return math.prod(space.count(now, dynamic) for _, space in self.dimensions)

    def contains(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> bool:
        return self._problem(key, now, dynamic) is None

    def index_of(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> int:
        self.validate_key(key, now, dynamic)
        index = 0
        for (_, space), value in zip(self.dimensions, self.split(key).values(), strict=True):
            index = index * space.count(now, dynamic) + space.index_of(value, now, dynamic)
        return index

    def validate_key(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> None:
        problem = self._problem(key, now, dynamic)
        if problem is not None:
            raise PartitionError(
                f"{key!r} is not a partition key of {self.summary()}: {problem[0]}",
                obj=repr(key),
                hint=problem[1](),
            )

    def _problem(
        self, key: str, now: datetime | None, dynamic: DynamicLookup | None
    ) -> tuple[str, Callable[[], str]] | None:
        """(what is wrong, how to say the fix) for ``key``; None when it is a key of this space.

        The fix is computed only when asked: it may list keys, which ``contains`` must not do.
        """
        try:
            parts = self.split(key)
        except PartitionError as error:
            return error.message, partial(str, error.hint or self._explain_range(now, dynamic))
        if str(parts) != key:
            return "its dimensions are out of order", partial(str, f"write it as {str(parts)!r}")
        for (name, space), value in zip(self.dimensions, parts.values(), strict=True):
            if not space.contains(value, now, dynamic):
                return (
                    f"{value!r} is not a key of dimension {name!r} ({space.summary()})",
                    partial(space._explain_range, now, dynamic),
                )
        return None

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "product",
            "dimensions": [
                {"name": name, "space": space.describe()} for name, space in self.dimensions
            ],
        }

    def summary(self) -> str:
        return (
            "product partitions ("
            + " * ".join(f"{name}: {space.summary()}" for name, space in self.dimensions)
            + ")"
        )

    def _explain_range(self, now: datetime | None, dynamic: DynamicLookup | None) -> str:
        example = ",".join(f"{name}=<{name}>" for name in self.dimension_names)
        return f"write keys as {example!r}, each value a key of its dimension"


class ProductKeys(Sequence[str]):
    """The keys of a product, computed on demand from each dimension's (lazy) keys."""

    def __init__(self, space: ProductPartitions, axes: list[Sequence[str]]) -> None:
        self._space = space
        self._axes = axes
        self._sizes = [len(axis) for axis in axes]
        self._len = math.prod(self._sizes)
        self._names = space.dimension_names

    def __len__(self) -> int:
        return self._len

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._len))]
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError("product key index out of range")
        values: list[str] = []
        for axis, size in zip(reversed(self._axes), reversed(self._sizes), strict=True):
            index, position = divmod(index, size)
            values.append(axis[position])
        return self._join(reversed(values))

    def _join(self, values: Iterator[str] | Sequence[str]) -> str:
        return ",".join(f"{name}={value}" for name, value in zip(self._names, values, strict=True))

    def __iter__(self) -> Iterator[str]:
        for values in itertools.product(*self._axes):
            yield self._join(values)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._position(key) is not None

    def _position(self, key: str) -> int | None:
        try:
            parts = self._space.split(key)
        except PartitionError:
            return None
        if str(parts) != key:
            return None
        index = 0
        for axis, size, value in zip(self._axes, self._sizes, parts.values(), strict=True):
            if value not in axis:
                return None
            index = index * size + axis.index(value)
        return index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str) or len(other) != self._len:
            return False
        return all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # a sequence compared by value

    def index(self, value: Any, start: int = 0, stop: int | None = None) -> int:
        position = self._position(value) if isinstance(value, str) else None
        if position is None or position < start or (stop is not None and position >= stop):
            raise ValueError(f"{value!r} is not in these keys")
        return position


def dimensions_of(space: PartitionSpace) -> dict[str, PartitionSpace]:
    """The dimensions of any space by name: a product's own, or the one of a single space."""
    if isinstance(space, ProductPartitions):
        return dict(space.dimensions)
    return {space.dimension_names[0]: space}


def split_key(space: PartitionSpace, key: str) -> dict[str, str]:
    """A key's value per dimension, for a product or a single space."""
    if isinstance(space, ProductPartitions):
        return dict(space.split(key))
    return {space.dimension_names[0]: key}


def join_values(space: PartitionSpace, values: Sequence[str]) -> str:
    """The key of one (already valid) value per dimension, in the space's dimension order."""
    if isinstance(space, ProductPartitions):
        return ",".join(f"{n}={v}" for n, v in zip(space.dimension_names, values, strict=True))
    return values[0]
