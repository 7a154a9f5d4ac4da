"""Built-in checks (``legato.checks``): on a list of dicts, or a pandas, polars or Arrow table.

Each returns a check for ``@asset(checks=[...])``, or, with ``asset=``, a check step of its own::

    @lg.asset(checks=[lg.checks.not_null("id", blocking=True), lg.checks.row_count(min=1)])
    def orders() -> list[dict]: ...

    orders_regions = lg.checks.accepted_values("region", ["eu", "us"], asset="orders")
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from legato._internal import tables
from legato._internal.durations import EXAMPLES as DURATIONS
from legato._internal.durations import format_duration, parse_duration
from legato.definitions.checks import CheckResult, CheckSpec, Severity, bind_check, check_spec
from legato.definitions.step import StepDef
from legato.errors import DefinitionError

__all__ = ["accepted_values", "freshness", "not_null", "row_count", "schema", "unique"]

EXAMPLES = 5  # offending values recorded with a failure


def _make(
    fn: Callable[..., CheckResult],
    name: str,
    description: str,
    *,
    blocking: bool,
    severity: Severity,
    asset: str | StepDef | None,
) -> Any:
    fn.__name__ = fn.__qualname__ = name
    caller = sys._getframe(2)  # the user's line that asked for this built-in
    spec: CheckSpec = check_spec(
        fn,
        name=name,
        blocking=blocking,
        severity=severity,
        description=description,
        source=f"{caller.f_code.co_filename}:{caller.f_lineno}",
    )
    return spec if asset is None else bind_check(spec, asset)


def _column_name(column: object, what: str) -> str:
    if not isinstance(column, str) or not column:
        raise DefinitionError(f"{what}: column {column!r} must be a name", hint='e.g. "id"')
    return column


def _slug(column: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in column)[:60]


def _values(value: Any, column: str) -> list[Any]:
    if tables.kind_of(value) is None:
        raise TypeError(
            f"a column check needs a table (a list of dicts, or a pandas, polars or Arrow "
            f"table), not {type(value).__name__}"
        )
    return tables.column(value, column)


def not_null(
    column: str,
    *,
    blocking: bool = False,
    severity: Severity = "error",
    asset: str | StepDef | None = None,
    name: str | None = None,
) -> Any:
    """Every row has a value in ``column`` (not None, NaN or missing)."""
    column = _column_name(column, "not_null")

    def check(value: Any) -> CheckResult:
        values = _values(value, column)
        nulls = sum(1 for v in values if v is None or v != v)
        return CheckResult(nulls == 0, severity, {"nulls": nulls, "rows": len(values)})

    name = name or f"not_null_{_slug(column)}"
    about = f"{column} is never null"
    return _make(check, name, about, blocking=blocking, severity=severity, asset=asset)


def unique(
    column: str,
    *,
    blocking: bool = False,
    severity: Severity = "error",
    asset: str | StepDef | None = None,
    name: str | None = None,
) -> Any:
    """No two rows share a value of ``column``."""
    column = _column_name(column, "unique")

    def check(value: Any) -> CheckResult:
        counts = Counter(_hashable(v) for v in _values(value, column))
        doubled = {k: n for k, n in counts.items() if n > 1}
        examples = [repr(k) for k in list(doubled)[:EXAMPLES]]
        metadata = {"duplicates": sum(n - 1 for n in doubled.values()), "examples": examples}
        return CheckResult(not doubled, severity, metadata)

    name = name or f"unique_{_slug(column)}"
    about = f"{column} is unique"
    return _make(check, name, about, blocking=blocking, severity=severity, asset=asset)


def _hashable(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def row_count(
    *,
    min: int | None = None,  # the words a user reads: row_count(min=1, max=10)
    max: int | None = None,
    blocking: bool = False,
    severity: Severity = "error",
    asset: str | StepDef | None = None,
    name: str | None = None,
) -> Any:
    """The number of rows (or items) is within ``[min, max]``."""
    for bound in (min, max):
        if bound is not None and (not isinstance(bound, int) or isinstance(bound, bool)):
            raise DefinitionError(f"row_count: bound {bound!r} must be a whole number")
    if min is None and max is None:
        raise DefinitionError("row_count() needs min=, max= or both", hint="e.g. row_count(min=1)")
    low, high = min, max

    def check(value: Any) -> CheckResult:
        rows = tables.row_count(value)
        if rows is None:
            raise TypeError(f"row_count needs a table or a collection, not {type(value).__name__}")
        passed = (low is None or rows >= low) and (high is None or rows <= high)
        return CheckResult(passed, severity, {"rows": rows, "min": low, "max": high})

    about = f"between {low if low is not None else 0} and {high if high is not None else '∞'} rows"
    name = name or "row_count"
    return _make(check, name, about, blocking=blocking, severity=severity, asset=asset)


def accepted_values(
    column: str,
    values: Iterable[Any],
    *,
    blocking: bool = False,
    severity: Severity = "error",
    asset: str | StepDef | None = None,
    name: str | None = None,
) -> Any:
    """Every value of ``column`` is one of ``values`` (a missing value counts as unexpected)."""
    column = _column_name(column, "accepted_values")
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise DefinitionError(
            f"accepted_values({column!r}): values={values!r} must be a list",
            hint='e.g. accepted_values("region", ["eu", "us"])',
        )
    accepted = list(values)
    allowed = {_hashable(v) for v in accepted}

    def check(value: Any) -> CheckResult:
        unexpected = Counter(
            _hashable(v) for v in _values(value, column) if _hashable(v) not in allowed
        )
        examples = [repr(k) for k, _ in unexpected.most_common(EXAMPLES)]
        metadata = {"unexpected": sum(unexpected.values()), "examples": examples}
        return CheckResult(not unexpected, severity, metadata)

    name = name or f"accepted_values_{_slug(column)}"
    about = f"{column} is one of {accepted[:10]}"
    return _make(check, name, about, blocking=blocking, severity=severity, asset=asset)


def schema(
    columns: Mapping[str, str | None] | Iterable[str],
    *,
    exact: bool = False,
    blocking: bool = False,
    severity: Severity = "error",
    asset: str | StepDef | None = None,
    name: str | None = None,
) -> Any:
    """The table has ``columns``; given as ``{name: type}``, each column's type name contains
    that text (case-insensitive: ``"int"`` accepts ``int64`` and ``Int32``). With ``exact``, it
    has no other column."""
    if isinstance(columns, str):
        raise DefinitionError(
            f"schema({columns!r}): give a list of columns or a {{column: type}} mapping",
            hint='e.g. schema({"id": "int", "amount": "float"})',
        )
    wanted: dict[str, str | None] = (
        dict(columns) if isinstance(columns, Mapping) else dict.fromkeys(columns)
    )
    if not wanted or not all(isinstance(c, str) and c for c in wanted):
        raise DefinitionError(f"schema({columns!r}): columns must be names")

    def check(value: Any) -> CheckResult:
        found = tables.column_types(value)
        if found is None:
            raise TypeError(f"schema needs a table, not {type(value).__name__}")
        missing = [c for c in wanted if c not in found]
        mismatched = {
            c: found[c]
            for c, t in wanted.items()
            if t and c in found and t.lower() not in found[c].lower()
        }
        extra = [c for c in found if c not in wanted] if exact else []
        metadata = {"missing": missing, "mismatched": mismatched, "unexpected": extra}
        return CheckResult(not (missing or mismatched or extra), severity, metadata)

    about = f"columns {list(wanted)}" + (" and no others" if exact else "")
    return _make(check, name or "schema", about, blocking=blocking, severity=severity, asset=asset)


def freshness(
    column: str | None = None,
    *,
    max_lag: str | float | timedelta,
    blocking: bool = False,
    severity: Severity = "error",
    asset: str | StepDef | None = None,
    name: str | None = None,
) -> Any:
    """The data is at most ``max_lag`` old when the check runs (``"2h"``, ``"1d"``, seconds or
    a ``timedelta``).

    With ``column``: the newest value of that column, a datetime (one without a time zone is
    UTC), a date (its midnight, UTC) or an ISO 8601 string; a table without one fails. Without:
    the materialization the check judges, by when it was made. Right after a materialization
    that one passes; it tells something when the check runs alone (``legato checks run``, a
    scheduled pipeline of checks)."""
    if column is not None:
        column = _column_name(column, "freshness")
    try:
        lag = parse_duration(max_lag)
    except ValueError as exc:
        raise DefinitionError(
            f"freshness({column or ''}): max_lag: {exc}",
            hint=f'write max_lag as {DURATIONS}, e.g. freshness("updated_at", max_lag="2h")',
        ) from None
    within = format_duration(lag)

    def judged(newest: datetime | None, what: str) -> CheckResult:
        now = datetime.now(UTC)
        age = None if newest is None else (now - newest).total_seconds()
        metadata = {
            what: None if newest is None else newest.isoformat(),
            "age_seconds": None if age is None else round(age, 3),
            "max_lag_seconds": lag,
        }
        return CheckResult(age is not None and age <= lag, severity, metadata)

    if column is None:

        def by_materialization(value: Any, context: Any) -> CheckResult:
            made = context.target_materialized_at
            when = None if made is None else datetime.fromtimestamp(made, UTC)
            return judged(when, "materialized_at")

        about = f"materialized at most {within} before the check"
        name = name or "freshness"
        return _make(
            by_materialization, name, about, blocking=blocking, severity=severity, asset=asset
        )

    def by_column(value: Any) -> CheckResult:
        times = (_instant(v, column) for v in _values(value, column) if v is not None and v == v)
        return judged(max(times, default=None), "newest")

    about = f"the newest {column} is at most {within} old"
    name = name or f"freshness_{_slug(column)}"
    return _make(by_column, name, about, blocking=blocking, severity=severity, asset=asset)


def _instant(value: Any, column: str) -> datetime:
    """A column's value as an aware datetime: naive ones and dates are taken as UTC."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"freshness: column {column!r} holds {value!r}, not an ISO 8601 date or time"
            ) from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    raise TypeError(
        f"freshness: column {column!r} holds {type(value).__name__} values; it needs datetimes, "
        "dates or ISO 8601 strings"
    )
