"""Output: a step's value with metadata to record with its materialization."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Output:
    """Return ``Output(value, metadata={...})`` from an asset to record numbers and facts with
    its materialization; ``value`` is what is stored and what downstream steps receive.

    Example:
        >>> @asset
        ... def orders() -> list[dict]:
        ...     rows = fetch()
        ...     return Output(rows, metadata={"source": "shop-api", "pages": 3})
    """

    value: Any
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.metadata, Mapping) or not all(
            isinstance(k, str) for k in self.metadata
        ):
            raise TypeError(
                f"Output(metadata={self.metadata!r:.100}): metadata must map names to values"
            )
