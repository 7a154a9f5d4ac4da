"""Metadata values that every store can keep: JSON scalars, lists and objects, bounded in size.

User code returns metadata from checks, ``context.add_metadata`` and ``Output(metadata=...)``;
numpy scalars, dates or arbitrary objects must not break the write of an event, so each value is
turned into JSON here (numbers as numbers, other objects as their text).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

MAX_ITEMS = 100  # per list or object
MAX_TEXT = 2_000  # characters of one string


def clean_metadata(values: Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """``values`` as JSON; raises TypeError naming ``what`` if it is not a mapping of strings."""
    if not isinstance(values, Mapping) or not all(isinstance(k, str) for k in values):
        raise TypeError(f"{what}: metadata must map strings to values, not {values!r:.100}")
    return {k: _clean(v, 0) for k, v in list(values.items())[:MAX_ITEMS]}


def _clean(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, bool | str):
        return value[:MAX_TEXT] if isinstance(value, str) else value
    if isinstance(value, int):
        return value if abs(value) < 2**63 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no NaN or infinity
    item = getattr(value, "item", None)  # a numpy scalar
    if callable(item) and type(value).__module__.split(".", 1)[0] == "numpy":
        return _clean(item(), depth)
    if depth < 4 and isinstance(value, Mapping):
        return {str(k): _clean(v, depth + 1) for k, v in list(value.items())[:MAX_ITEMS]}
    if depth < 4 and isinstance(value, list | tuple | set | frozenset):
        return [_clean(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
    return str(value)[:MAX_TEXT]
