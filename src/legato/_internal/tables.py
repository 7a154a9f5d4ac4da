"""Reading a table-shaped value without importing a dataframe library: a list of dicts (records),
or a pandas, polars or Arrow table. Each library is recognised by the module of the value's type,
so none is imported unless the value is already one of its tables.

Used by the built-in checks (columns and their values) and by the metadata every
materialization records (row count, schema).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def kind_of(value: Any) -> str | None:
    """``"pandas"``, ``"polars"``, ``"arrow"``, ``"records"`` (a list of dicts), or None."""
    module = type(value).__module__.split(".", 1)[0]
    name = type(value).__name__
    if module == "pandas" and name == "DataFrame":
        return "pandas"
    if module == "polars" and name == "DataFrame":
        return "polars"
    if module == "pyarrow" and name in ("Table", "RecordBatch"):
        return "arrow"
    if isinstance(value, list | tuple) and all(isinstance(r, Mapping) for r in value):
        return "records"  # an empty list is a table without rows
    return None


def row_count(value: Any) -> int | None:
    """Rows of a table, items of a sized collection, or None for anything else."""
    kind = kind_of(value)
    if kind == "arrow":
        return int(value.num_rows)
    if kind in ("pandas", "polars"):
        return int(value.shape[0])
    if isinstance(value, str | bytes):
        return None
    try:
        return len(value)
    except TypeError:
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
        for row in list(value)[:100]:
            for key, item in row.items():
                seen.setdefault(str(key), set()).add(type(item).__name__)
        return {k: "|".join(sorted(v)) for k, v in seen.items()}
    return None


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
