"""Declaring checks, and the built-in checks on records and on pandas, polars and Arrow tables."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import legato as lg
from legato.definitions.checks import CheckSpec


@lg.asset
def orders() -> list[dict]:
    return []


ROWS = [
    {"id": 1, "region": "eu", "amount": 5.0},
    {"id": 2, "region": "us", "amount": None},
    {"id": 2, "region": "mars", "amount": 1.0},
]
TABLES = {
    "records": ROWS,
    "pandas": pd.DataFrame(ROWS),
    "arrow": pa.Table.from_pylist(ROWS),
}


def _run(spec: CheckSpec, value: object) -> lg.CheckResult:
    result = spec.fn(value)
    assert isinstance(result, lg.CheckResult)
    return result


@pytest.mark.parametrize("kind", list(TABLES))
def test_built_in_checks_read_records_pandas_and_arrow_alike(kind):
    table = TABLES[kind]
    nulls = _run(lg.checks.not_null("amount"), table)
    assert (nulls.outcome, nulls.metadata) == ("fail", {"nulls": 1, "rows": 3})
    assert _run(lg.checks.not_null("id"), table).passed
    dupes = _run(lg.checks.unique("id", severity="warn"), table)
    assert (dupes.outcome, dupes.metadata["duplicates"]) == ("warn", 1)
    regions = _run(lg.checks.accepted_values("region", ["eu", "us"]), table)
    assert regions.metadata == {"unexpected": 1, "examples": ["'mars'"]}
    assert _run(lg.checks.row_count(min=1, max=3), table).passed
    assert not _run(lg.checks.row_count(max=2), table).passed
    assert _run(lg.checks.schema(["id", "region"]), table).passed
    exact = _run(lg.checks.schema({"id": "int", "region": None}, exact=True), table)
    assert not exact.passed and exact.metadata["unexpected"] == ["amount"]


def test_polars_tables_too():
    pl = pytest.importorskip("polars")
    assert not _run(lg.checks.not_null("amount"), pl.DataFrame(ROWS)).passed


def test_a_column_that_is_not_there_or_a_value_that_is_no_table_fails_the_check_saying_so():
    with pytest.raises(
        KeyError, match=r"no column 'ammount'; columns are \['id', 'region', 'amount'\]"
    ):
        _run(lg.checks.not_null("ammount"), TABLES["pandas"])
    with pytest.raises(TypeError, match="needs a table"):
        _run(lg.checks.unique("id"), 42)


def test_checks_are_keyed_by_their_asset_and_name():
    @lg.check(asset=orders, blocking=True)
    def no_gaps(orders: list[dict], context) -> bool:
        return True

    assert no_gaps.key == "orders:check:no_gaps" and no_gaps.kind == "check"
    assert no_gaps.check is not None and no_gaps.check.blocking
    bound = lg.checks.not_null("id", asset="orders")
    assert bound.key == "orders:check:not_null_id"
    assert bound.source is not None and bound.source.startswith(__file__)  # the user's line

    @lg.asset(checks=[lg.checks.row_count(min=1), lg.check(lambda rows: True, name="always")])
    def items() -> list[int]:
        return [1]

    assert [c.key for c in items.checks] == ["items:check:row_count", "items:check:always"]


def _empty() -> list[dict]:
    return []


def test_bad_check_definitions_are_refused_naming_the_fix():
    with pytest.raises(lg.DefinitionError, match="severity='fatal'") as caught:
        lg.checks.not_null("id", severity="fatal")  # type: ignore[arg-type]
    assert 'severity="warn"' in (caught.value.hint or "")
    with pytest.raises(lg.DefinitionError, match="takes no parameter"):
        lg.check(asset="orders", name="empty")(lambda: True)
    with pytest.raises(lg.DefinitionError, match="two checks called 'row_count'"):
        lg.asset(checks=[lg.checks.row_count(min=1), lg.checks.row_count(max=9)])(_empty)
    with pytest.raises(lg.DefinitionError, match="is already a step"):
        lg.asset(checks=[lg.checks.not_null("id", asset="orders")])(_empty)
    with pytest.raises(lg.DefinitionError, match="needs min=, max= or both"):
        lg.checks.row_count()
    with pytest.raises(TypeError, match="passed must be True or False"):
        lg.CheckResult(passed="yes")  # type: ignore[arg-type]
