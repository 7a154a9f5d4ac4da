"""PartitionSpace: the key space an asset is split into, and what every kind of space answers.

A space answers questions about its keys without listing them when it can: time spaces count,
index and test membership arithmetically, and ``keys()`` returns a lazy sequence. Spaces whose keys
live in the store (dynamic sets) get them from the caller through ``dynamic``, a lookup
``name -> keys`` (a mapping or a function); this layer does no I/O. ``now`` is injected the same
way: ``None`` means the current time.

Spaces are immutable values: two spaces are equal when their ``describe()`` dicts are equal.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from legato.errors import PartitionError

if TYPE_CHECKING:
    from legato.definitions.partitions.product import ProductPartitions

DynamicLookup: TypeAlias = Mapping[str, Sequence[str]] | Callable[[str], Sequence[str]]
"""The current keys of each dynamic set, by name, as the store knows them."""


def resolve_now(now: datetime | None) -> datetime:
    """``now`` as an aware datetime; None means the current time."""
    if now is None:
        return datetime.now(UTC)
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise PartitionError(
            f"now={now!r} must be an aware datetime",
            obj=repr(now),
            hint="pass datetime.now(UTC) or a clock's now()",
        )
    return now


class PartitionSpace(ABC):
    """The set of partition keys of an asset; build products of spaces with ``*``."""

    @property
    @abstractmethod
    def dimension_names(self) -> tuple[str, ...]:
        """The dimension names: one for a single space, one per dimension for a product."""

    @abstractmethod
    def keys(
        self, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> Sequence[str]:
        """Every key, in order; a lazy sequence for large spaces (``len`` and ``in`` are cheap)."""

    @abstractmethod
    def contains(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> bool:
        """True if ``key`` is a key of this space (as of ``now``), without listing the keys."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """A stable, JSON-able description (for snapshots, the API and equality)."""

    @abstractmethod
    def _explain_range(self, now: datetime | None, dynamic: DynamicLookup | None) -> str:
        """Say which keys are valid, for error messages ('valid keys run from ... to ...')."""

    def count(self, now: datetime | None = None, dynamic: DynamicLookup | None = None) -> int:
        """How many keys the space has (as of ``now``)."""
        return len(self.keys(now, dynamic))

    def index_of(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> int:
        """Position of ``key`` in ``keys()``; PartitionError if it is not a key of this space."""
        self.validate_key(key, now, dynamic)
        return self.keys(now, dynamic).index(key)

    def keys_between(
        self,
        first: str,
        last: str,
        now: datetime | None = None,
        dynamic: DynamicLookup | None = None,
    ) -> Sequence[str]:
        """The keys from ``first`` to ``last``, both included, in space order (lazy when large)."""
        start = self.index_of(first, now, dynamic)
        stop = self.index_of(last, now, dynamic)
        if stop < start:
            raise PartitionError(
                f"key range {first!r}..{last!r} is reversed",
                obj=f"{first}..{last}",
                hint=f"write {last!r}..{first!r}",
            )
        return self.keys(now, dynamic)[start : stop + 1]

    def validate_key(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> None:
        """Raise PartitionError naming the valid range unless ``key`` is a key of this space."""
        if not self.contains(key, now, dynamic):
            raise PartitionError(
                f"{key!r} is not a partition key of {self.summary()}",
                obj=repr(key),
                hint=self._explain_range(now, dynamic),
            )

    def summary(self) -> str:
        """A short human description, e.g. ``daily partitions (UTC) from 2024-01-01``."""
        return type(self).__name__

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.contains(key)

    def __mul__(self, other: PartitionSpace) -> ProductPartitions:
        from legato.definitions.partitions.product import ProductPartitions  # circular at import

        if not isinstance(other, PartitionSpace):
            return NotImplemented
        return ProductPartitions.of(self, other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PartitionSpace):
            return NotImplemented
        return self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def __repr__(self) -> str:
        return f"<{self.summary()}>"

    def _identity(self) -> str:
        return json.dumps(self.describe(), sort_keys=True)


def lookup_dynamic(dynamic: DynamicLookup | None, name: str) -> Sequence[str]:
    """The keys of dynamic set ``name`` from the caller's lookup; an unknown name has no keys."""
    if dynamic is None:
        raise PartitionError(
            f"the keys of dynamic partitions {name!r} live in the store and were not passed in",
            obj=name,
            hint=f"pass dynamic={{{name!r}: [...]}} (the store's current keys for {name!r})",
        )
    if callable(dynamic):
        return dynamic(name)
    return dynamic.get(name, ())


def lookup_dynamic_as_of(
    dynamic: DynamicLookup | None, name: str, as_of: datetime
) -> Sequence[str]:
    """The keys of dynamic set ``name`` that existed at ``as_of``: a lookup that knows when each
    key was added (the store's has an ``as_of(name, when)`` method) answers so; one that does not
    (a plain mapping or function) answers every key it has."""
    history = getattr(dynamic, "as_of", None)
    if callable(history):
        return history(name, as_of)  # type: ignore[no-any-return]
    return lookup_dynamic(dynamic, name)
