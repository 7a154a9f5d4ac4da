"""Reading a table-shaped value without importing a dataframe library: a list of dicts (records),
or a pandas, polars or Arrow table. Each library is recognised by the module of the value's type,
so none is imported unless the value is already one of its tables.

Used by the built-in checks (columns and their values) and by the metadata every
materialization records (row count, schema).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

SAMPLE = 100  # rows of a list of dicts looked at for its keys (and to tell it is one)


def kind_of(value: Any) -> str | None:
    """``"pandas"``, ``"polars"``, ``"arrow"``, ``"records"`` (a list of dicts), or None."""
    if isinstance(value, list | tuple):
        head = value[:SAMPLE]
        return "records" if all(isinstance(r, dict | Mapping) for r in head) else None
    module = type(value).__module__.split(".", 1)[0]
    if module not in ("pandas", "polars", "pyarrow"):
        return None
    name = type(value).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars" and name == "DataFrame":
        return "polars"
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return "arrow"
    return None


def row_count(value: Any, kind: str | None = None) -> int | None:
    """Rows of a table, items of a sized collection, or None for anything else."""
    kind = kind or kind_of(value)
    if kind == "arrow":
        return int(value.num_rows)
    if kind in ("pandas", "polars"):
        return int(value.shape[0])
    if isinstance(value, str | bytes) or not hasattr(type(value), "__len__"):
        return None
    try:
        return len(value)
    except TypeError:  # a class with __len__ that refuses this value
        return None


def column_types(value: Any) -> dict[str, str] | None:
    """Column name → type name of a table (records: the Python types seen, by key, in the first
    100 rows); None if ``value`` is not a table."""
    kind = kind_of(value)
    if kind == "pandas":
        return {str(c): str(t) for c, t in value.dtypes.items()}
    if kind == "polars":
        return {str(c): str(t) for c, t in value.schema.items()}
    if kind == "arrow":
        return {f.name: str(f.type) for f in value.schema}
    if kind == "records":
        seen: dict[str, set[str]] = {}
        for row in value[:SAMPLE]:
            for key, item in row.items():
                seen.setdefault(str(key), set()).add(type(item).__name__)
        return {k: "|".join(sorted(v)) for k, v in seen.items()}
    return None


def schema_hash(value: Any, kind: str | None = None) -> str | None:
    """A short hash of a table's shape: its column names and types (records: the keys seen in
    the first 100 rows, whatever their order); None if ``value`` is not a table. Two
    materializations with one hash hand the same shape over to what reads them."""
    kind = kind or kind_of(value)
    if kind is None or (kind == "records" and not value):
        return None
    if kind == "records":
        shape: Any = sorted({str(k) for row in value[:SAMPLE] for k in row})
    else:
        shape = sorted((column_types(value) or {}).items())
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def measure(value: Any) -> dict[str, Any]:
    """What every materialization records of its value: ``rows`` and ``schema_hash``, those
    that apply."""
    kind = kind_of(value)
    rows, shape = row_count(value, kind), schema_hash(value, kind)
    found = {"rows": rows, "schema_hash": shape}
    return {name: v for name, v in found.items() if v is not None}


def column(value: Any, name: str) -> list[Any]:
    """The values of column ``name``, as Python objects (missing values as None).

    Raises KeyError naming the columns there are when ``name`` is not one of them."""
    kind = kind_of(value)
    known = list(column_types(value) or {})
    if kind is None or (name not in known and kind != "records"):
        raise KeyError(f"no column {name!r}; columns are {known}")
    if kind == "pandas":
        series = value[name]
        return [None if _missing(v) else v for v in series.astype(object).tolist()]
    if kind == "polars":
        return list(value.get_column(name).to_list())
    if kind == "arrow":
        return list(value.column(name).to_pylist())
    rows: Sequence[Mapping[str, Any]] = value
    if rows and all(name not in r for r in rows):
        raise KeyError(f"no column {name!r}; columns are {known}")
    return [r.get(name) for r in rows]


def _missing(item: Any) -> bool:
    """pandas marks a missing value with None, NaN, NaT or pd.NA."""
    if item is None:
        return True
    try:
        return bool(item != item)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):  # pd.NA refuses to be a bool
        return True
