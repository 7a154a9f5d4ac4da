"""DynamicPartitions: a named set of keys that grows and shrinks at run time (tenants, files).

The keys live in the store; this layer has no I/O, so every question that needs them takes a
``dynamic`` lookup (``{"tenants": [...]}`` or a function ``name -> keys``) from the caller. Adding
and removing keys happens in the store; :meth:`DynamicPartitions.check_new_key` is the validation
it applies first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from legato.definitions.partitions.base import DynamicLookup, PartitionSpace, lookup_dynamic
from legato.definitions.partitions.keys import check_dimension_name, check_key


class DynamicPartitions(PartitionSpace):
    """The keys of the dynamic set ``name``, as the store holds them now.

    Its dimension name in a product is the set name: ``DynamicPartitions("tenant") * daily`` has
    keys like ``tenant=acme,date=2024-01-01``.
    """

    def __init__(self, name: str) -> None:
        self.name = check_dimension_name(name, what="dynamic partitions name")

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return (self.name,)

    def check_new_key(self, key: str) -> str:
        """Return ``key`` if it may be added to this set, else raise PartitionError saying why."""
        return check_key(key, what=f"new key of dynamic partitions {self.name!r}")

    def validate_key(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> None:
        check_key(key, what=f"key of dynamic partitions {self.name!r}")  # say why, if malformed
        super().validate_key(key, now, dynamic)

    def keys(
        self, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> Sequence[str]:
        return lookup_dynamic(dynamic, self.name)

    def contains(
        self, key: str, now: datetime | None = None, dynamic: DynamicLookup | None = None
    ) -> bool:
        return isinstance(key, str) and key in lookup_dynamic(dynamic, self.name)

    def describe(self) -> dict[str, Any]:
        return {"kind": "dynamic", "name": self.name}

    def summary(self) -> str:
        return f"dynamic partitions {self.name!r}"

    def _explain_range(self, now: datetime | None, dynamic: DynamicLookup | None) -> str:
        keys = lookup_dynamic(dynamic, self.name)
        if not keys:
            return f"the set {self.name!r} has no keys yet; add the key to it first"
        shown = ", ".join(repr(k) for k in keys[:10])
        more = f" and {len(keys) - 10} more" if len(keys) > 10 else ""
        return f"the set {self.name!r} holds {shown}{more}; add the key to it first"
