"""A step's value checked against its contract before it is stored, so that a value which
breaks its contract is never published.

A value is validated by msgspec against the return annotation: ``msgspec.convert(value, type,
strict=True)`` walks the whole value in C, refuses what the annotation does not allow (no
coercion of ``"1"`` into ``1``) and names the first offending path (``$[1].amount``). Struct and
dataclass instances pass ``convert`` as they are, so a value holding them is checked once more
as plain data (``to_builtins``), which validates their fields. A table is checked against its
``TableContract``: each column there, with its dtype, and no null in a ``not_null`` column.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from legato._internal import tables
from legato.definitions.contracts import TableContract, dtype_name, dtype_satisfies
from legato.errors import ContractViolation
from legato.graph.graph import Node
from legato.graph.shapes import Shape, render

SHOWN = 5  # offending columns or rows named in a failure
_AS_IS = (
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    bytes,
    bytearray,
    memoryview,
    decimal.Decimal,
    uuid.UUID,
)
_INSTANCES = {"struct", "dataclass", "namedtuple"}


def validate_output(node: Node, value: Any, partition_keys: tuple[str, ...] = ()) -> None:
    """Raise ContractViolation if ``value`` does not fit ``node``'s contract. A single-run step
    returns ``{partition key: value}``: its annotation describes that mapping, its table contract
    each value."""
    contract = node.contract
    if not contract.checked:  # no annotation, no contract: nothing to do, at no cost
        return
    key, source = node.step.key, node.step.source
    if contract.output["kind"] != "any":
        _check_value(key, source, contract.returns, contract.output, value)
    if contract.table is not None:
        for part, table in _values(value, partition_keys):
            _check_table(key, source, contract.table, table, part)


def _values(value: Any, partition_keys: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    if not partition_keys:
        yield "", value
        return
    for part in partition_keys:
        yield part, value[part]


def _check_value(key: str, source: str | None, returns: Any, shape: Shape, value: Any) -> None:
    try:
        msgspec.convert(value, returns, strict=True)
        if _holds_instances(shape):  # their fields too
            msgspec.convert(msgspec.to_builtins(value, builtin_types=_AS_IS), returns, strict=True)
    except msgspec.ValidationError as exc:
        found = str(exc)
        raise ContractViolation(
            f"step {key!r} ({source}) returned a value that does not fit its return annotation "
            f"{render(shape)}: {found}; it was not stored",
            step=key,
            source=source,
            problems=[found],
            hint=f"fix what {key} returns, or its return annotation if the value is right",
        ) from None
    except TypeError:  # a type msgspec cannot check (e.g. a custom class inside): not validated
        return


def _holds_instances(shape: Shape) -> bool:
    if shape["kind"] in _INSTANCES:
        return True
    children = [shape.get(k) for k in ("item", "key", "value")]
    children += shape.get("items", []) + shape.get("options", [])
    children += [f["type"] for f in shape.get("fields", {}).values()]
    return any(_holds_instances(c) for c in children if c)


def _check_table(
    key: str, source: str | None, contract: TableContract, value: Any, part: str
) -> None:
    what = f"step {key!r} ({source})" + (f", partition {part!r}," if part else "")
    kind = tables.kind_of(value)
    if kind not in ("pandas", "polars", "arrow"):
        raise ContractViolation(
            f"{what} has a table contract but returned {type(value).__name__}, not a table; "
            "it was not stored",
            step=key,
            source=source,
            problems=[f"$: expected a table, got {type(value).__name__}"],
            hint="return a pandas or polars DataFrame or a pyarrow Table, or drop contract=",
        )
    columns = _dtypes(kind, value)
    problems = []
    for name, wanted in contract.columns.items():
        actual = columns.get(name)
        if actual is None:
            problems.append(f"column {name!r} is missing (the contract says {wanted})")
        elif not dtype_satisfies(actual, wanted) and not _holds_text(kind, value, name, wanted):
            problems.append(f"column {name!r} is {actual}, the contract says {wanted}")
    for name in sorted(contract.not_null):
        if name in columns:
            rows = _null_rows(kind, value, name)
            if rows:
                problems.append(f"column {name!r} has nulls, first at row(s) {rows}")
    if problems:
        shown = problems[:SHOWN] + ([f"… {len(problems) - SHOWN} more"] * (len(problems) > SHOWN))
        raise ContractViolation(
            f"{what} returned a table that does not fit its contract: {'; '.join(shown)}; "
            "it was not stored",
            step=key,
            source=source,
            problems=problems,
            hint=f"fix the table {key} returns (cast or fill the columns), or its contract",
        )


def _dtypes(kind: str, value: Any) -> Mapping[str, str]:
    """Column name → canonical dtype (the library's own spelling when it has none)."""
    if kind == "arrow":
        return {f.name: _canonical(_arrow_name(str(f.type))) for f in value.schema}
    if kind == "polars":
        return {str(c): _polars_dtype(t) for c, t in value.schema.items()}
    return {str(c): _canonical(str(t)) for c, t in value.dtypes.items()}


def _arrow_name(text: str) -> str:
    return {"float": "float32", "halffloat": "float16"}.get(text, text)


def _canonical(text: str) -> str:
    return dtype_name(text) or text.lower()


def _polars_dtype(dtype: Any) -> str:
    unit = getattr(dtype, "time_unit", None)
    name = type(dtype).__name__
    if name in ("Datetime", "Duration") and unit:
        family = "timestamp" if name == "Datetime" else "duration"
        zone = getattr(dtype, "time_zone", None)
        return f"{family}[{unit}" + (f", tz={zone}" if zone else "") + "]"
    return _canonical(str(dtype))


def _holds_text(kind: str, value: Any, name: str, wanted: str) -> bool:
    """pandas keeps text in ``object`` columns: one holding only strings is a string column."""
    if kind != "pandas" or wanted != "string":
        return False
    import pandas as pd  # a pandas table is in hand, so pandas is already imported

    series = value[name]
    return str(series.dtype) == "object" and pd.api.types.infer_dtype(series, skipna=True) in (
        "string",
        "empty",
    )


def _null_rows(kind: str, value: Any, name: str) -> list[Any]:
    """The first rows (index labels for pandas) where column ``name`` is null."""
    if kind == "arrow":
        column = value.column(name)
        if column.null_count == 0:
            return []
        import pyarrow.compute as pc

        return list(pc.indices_nonzero(pc.is_null(column)).slice(0, SHOWN).to_pylist())
    if kind == "polars":
        series = value.get_column(name)
        if series.null_count() == 0:
            return []
        return list(series.is_null().arg_true().head(SHOWN).to_list())
    mask = value[name].isna()
    return [] if not mask.any() else list(value.index[mask][:SHOWN])
