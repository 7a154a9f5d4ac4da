"""The IO manager protocol: how a step's value is stored and loaded between steps and runs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from legato.definitions.keys import StepKey


@dataclass(frozen=True)
class IOContext:
    """Which value is meant: an asset (``asset_key`` set) or a task result of one run."""

    step: StepKey
    run_id: str
    asset_key: str | None = None

    @property
    def partition_key(self) -> str:
        return self.step.partition


@runtime_checkable
class IOManager(Protocol):
    """Stores and loads values. Implementations must write atomically: a reader sees the previous
    complete value or the new complete one, never a partial one."""

    def store(self, context: IOContext, value: Any) -> Mapping[str, Any]:
        """Persist ``value``; return metadata recorded with the materialization (path, bytes…)."""
        ...

    def load(self, context: IOContext) -> Any:
        """Return the value stored for ``context``; raise KeyError-like if there is none."""
        ...

    def exists(self, context: IOContext) -> bool:
        """True if a complete value is stored for ``context``."""
        ...
