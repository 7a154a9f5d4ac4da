"""Table contracts: the columns an asset promises (``TableContract``) and the columns a consumer
needs (``Needs``), with their dtypes in one spelling shared by pandas, polars and Arrow.

A value's contract is its function's return annotation (``list[int]``, a msgspec Struct, a
TypedDict, ...); a table's dtypes cannot be written as a Python type, so they are declared here:

    @lg.asset(contract=lg.TableContract({"id": "int64", "amount": "float64"}, not_null=["id"]))
    def orders() -> pd.DataFrame: ...

    @lg.asset
    def revenue(orders: Annotated[pd.DataFrame, lg.Needs({"amount": "float64"})]) -> float: ...
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from legato.errors import DefinitionError

ANY_DTYPE = "any"  # a needed column of whatever dtype

# Declared spellings → the canonical dtype (Arrow's names, sized, lowercase).
_ALIASES = {
    "double": "float64",
    "halffloat": "float16",
    "boolean": "bool",
    "str": "string",
    "utf8": "string",
    "large_string": "string",
    "large_utf8": "string",
    "string_view": "string",
    "large_binary": "binary",
    "bytes": "binary",
    "categorical": "category",
    "date32": "date",
    "date32[day]": "date",
    "date64": "date",
    "date64[ms]": "date",
    "datetime": "timestamp",
    "datetime64": "timestamp",
    "timedelta": "duration",
    "timedelta64": "duration",
}
_SIMPLE = {
    *(f"int{n}" for n in (8, 16, 32, 64)),
    *(f"uint{n}" for n in (8, 16, 32, 64)),
    "float16",
    "float32",
    "float64",
    "bool",
    "string",
    "binary",
    "date",
    "time",
    "category",
    "object",
    "null",
    "timestamp",
    "duration",
    ANY_DTYPE,
}
_UNITS = ("s", "ms", "us", "ns")
_TIMED = re.compile(
    r"^(timestamp|datetime64|duration|timedelta64)\[(\w+)(?:,\s*(?:tz=)?(.+))?\]$", re.IGNORECASE
)
_ARROW = {
    "float": "float32",
    "halffloat": "float16",
}  # Arrow's own names that pandas reads otherwise
_AMBIGUOUS = {"int": "int64", "float": "float64", "integer": "int64", "number": "float64"}


def dtype_name(text: str) -> str | None:
    """The canonical dtype for a spelling of pandas, polars or Arrow (``Int64``, ``double``,
    ``datetime64[ns, UTC]``, ``int64[pyarrow]``), or None if it names none of them."""
    name = text.strip().lower().removesuffix("[pyarrow]").removesuffix("[python]")
    name = _ALIASES.get(name, name)
    if name in _SIMPLE:
        return name
    timed = _TIMED.match(text.strip().removesuffix("[pyarrow]"))  # a time zone keeps its case
    if timed and timed.group(2).lower() in _UNITS:
        family = (
            "timestamp" if timed.group(1).lower() in ("timestamp", "datetime64") else "duration"
        )
        tz = timed.group(3)
        if family == "duration" and tz:
            return None
        return f"{family}[{timed.group(2).lower()}" + (f", tz={tz.strip()}" if tz else "") + "]"
    if re.fullmatch(r"decimal(128|256)?\(\d+,\s*\d+\)", name):
        return "decimal(" + name.split("(", 1)[1].replace(" ", "")
    if name.startswith(("list<", "large_list<", "struct<", "map<", "dictionary<")):
        return "category" if name.startswith("dictionary<") else name
    return None


def dtype_satisfies(actual: str, wanted: str) -> bool:
    """Whether a column of dtype ``actual`` is what ``wanted`` asks for: the same dtype, or
    ``wanted`` is a family without its unit (``timestamp`` takes ``timestamp[us, tz=UTC]``)."""
    if wanted in (actual, ANY_DTYPE):
        return True
    return wanted in ("timestamp", "duration") and actual.startswith(wanted + "[")


def _declared(columns: Any, what: str) -> dict[str, str]:
    if isinstance(columns, str) or not isinstance(columns, Mapping | Iterable):
        raise DefinitionError(
            f"{what}: columns={columns!r} is not a mapping of column names to dtypes",
            hint='write {"id": "int64", "amount": "float64"} (or a list of names: any dtype)',
        )
    pairs = columns.items() if isinstance(columns, Mapping) else ((c, ANY_DTYPE) for c in columns)
    out: dict[str, str] = {}
    for name, dtype in pairs:
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"{what}: column {name!r} must be a non-empty string")
        canonical = dtype_name(dtype) if isinstance(dtype, str) else None
        if canonical is None:
            guess = _AMBIGUOUS.get(str(dtype).strip().lower())
            raise DefinitionError(
                f"{what}: column {name!r} has dtype {dtype!r}, which is not a table dtype",
                hint=f"did you mean {guess!r}?"
                if guess
                else "use one of int8..int64, uint8..uint64, float32, float64, bool, string, "
                "binary, date, time, timestamp[us] (or [ns], [ms], [s]; ', tz=UTC'), "
                "duration[us], decimal(p,s), category, or 'any'",
            )
        out[name] = canonical
    return out


def _names(not_null: Iterable[str], columns: Mapping[str, str], what: str) -> frozenset[str]:
    if isinstance(not_null, str):
        not_null = [not_null]
    names = frozenset(not_null)
    unknown = sorted(n for n in names if n not in columns)
    if unknown:
        raise DefinitionError(
            f"{what}: not_null names {unknown}, which are not among its columns",
            hint=f"columns are {sorted(columns)}",
        )
    return names


@dataclass(frozen=True, init=False)
class TableContract:
    """The columns an asset's table has: their names, dtypes and which may hold no null.

    Checked on the value before it is stored (a pandas, polars or Arrow table): each column is
    there with its dtype, and a ``not_null`` column has no null (for pandas, no NaN either).
    Columns the contract does not name may be there too; consumers cannot rely on them.

    Args:
        columns: column name → dtype, in Arrow's spelling or pandas'/polars': ``int64``,
            ``float64``, ``string``, ``bool``, ``timestamp[us, tz=UTC]``, ``date``, ...
        not_null: columns that never hold a null.

    Example:
        >>> TableContract({"id": "int64", "amount": "float64"}, not_null=["id"])
        TableContract({'id': 'int64', 'amount': 'float64'}, not_null=['id'])
    """

    columns: Mapping[str, str]
    not_null: frozenset[str]

    def __init__(self, columns: Mapping[str, str], *, not_null: Iterable[str] = ()) -> None:
        what = type(self).__name__
        checked = _declared(columns, what)
        if not checked:
            raise DefinitionError(f"{what}: it names no column", hint="list the columns")
        object.__setattr__(self, "columns", checked)
        object.__setattr__(self, "not_null", _names(not_null, checked, what))

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.columns.items()), self.not_null))

    def __repr__(self) -> str:
        nulls = f", not_null={sorted(self.not_null)}" if self.not_null else ""
        return f"{type(self).__name__}({dict(self.columns)}{nulls})"

    def describe(self) -> dict[str, Any]:
        """As JSON: ``{"columns": {name: dtype}, "not_null": [names]}``."""
        return {"columns": dict(self.columns), "not_null": sorted(self.not_null)}


class Needs(TableContract):
    """The columns a consumer reads from its upstream's table, in its parameter's annotation::

        def revenue(orders: Annotated[pd.DataFrame, Needs({"amount": "float64"})]) -> float: ...

    When the project loads, each needed column must be in the upstream's contract, with that
    dtype (``"any"``, or a list of names, takes any dtype); a ``not_null`` column must be one the
    upstream declares never null. Columns it does not name may be there and are ignored.
    """


def as_table_contract(contract: Any, what: str, source: str | None) -> TableContract | None:
    """``contract=`` of ``@asset``/``@task``: a TableContract, or a ``pyarrow.Schema`` (its
    non-nullable fields are not_null)."""
    if contract is None or type(contract) is TableContract:
        return contract
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None and isinstance(contract, pyarrow.Schema):
        columns = {f.name: _ARROW.get(str(f.type), str(f.type)) for f in contract}
        try:
            return TableContract(columns, not_null=[f.name for f in contract if not f.nullable])
        except DefinitionError as exc:
            raise DefinitionError(
                f"{what} ({source}): contract={exc.message}", obj=what, source=source, hint=exc.hint
            ) from None
    raise DefinitionError(
        f"{what} ({source}): contract={contract!r} is not a table contract",
        obj=what,
        source=source,
        hint='pass contract=TableContract({"id": "int64", ...}) or a pyarrow.Schema; a value\'s '
        "contract is its return annotation (e.g. -> list[int])",
    )
