"""An IO manager that keeps values in a dict: for tests and in-process runs that need no files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from legato.definitions.io import IOContext
from legato.errors import NotFoundError


def _slot(context: IOContext) -> tuple[str, str, str]:
    if context.asset_key is not None:
        return ("asset", context.asset_key, context.partition_key)
    return ("task", context.run_id, str(context.step))


class MemoryIOManager:
    """Values in memory; lost when the process ends."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str, str], Any] = {}

    def store(self, context: IOContext, value: Any) -> Mapping[str, Any]:
        self.values[_slot(context)] = value
        return {}

    def load(self, context: IOContext) -> Any:
        try:
            return self.values[_slot(context)]
        except KeyError:
            raise NotFoundError(
                f"no stored value for {context.asset_key or context.step}",
                hint="materialize it first",
            ) from None

    def exists(self, context: IOContext) -> bool:
        return _slot(context) in self.values
