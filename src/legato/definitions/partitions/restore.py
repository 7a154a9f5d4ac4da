"""Rebuild a partition space from its ``describe()`` dict (for processes without user code)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from legato.definitions.partitions.base import PartitionSpace
from legato.definitions.partitions.dynamic import DynamicPartitions
from legato.definitions.partitions.product import ProductPartitions
from legato.definitions.partitions.static import StaticPartitions
from legato.definitions.partitions.time import TimeWindowPartitions
from legato.errors import PartitionError


def space_from_description(data: Mapping[str, Any] | None) -> PartitionSpace | None:
    """The space ``describe()`` described; None for an unpartitioned node."""
    if data is None:
        return None
    kind = data.get("kind")
    if kind == "time_window":
        end = data.get("end")
        return TimeWindowPartitions(
            cron=data["cron"],
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(end) if end else None,
            timezone=data["timezone"],
            fmt=data["fmt"],
            end_offset=data.get("end_offset", 0),
            name=data.get("name", "date"),
        )
    if kind == "static":
        return StaticPartitions(list(data["keys"]), name=data.get("name", "static"))
    if kind == "dynamic":
        return DynamicPartitions(data["name"])
    if kind == "product":
        dims = {d["name"]: space_from_description(d["space"]) for d in data["dimensions"]}
        return ProductPartitions({k: v for k, v in dims.items() if v is not None})
    raise PartitionError(
        f"cannot rebuild a partition space of kind {kind!r}",
        obj=str(kind),
        hint="this snapshot was written by a newer Legato; upgrade",
    )
