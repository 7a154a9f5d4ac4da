"""At run time a step's value is checked against its contract before it is stored: a value that
breaks it fails the step, names the first offending path or columns, and is never published."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
import pandas as pd
import polars as pl
import pyarrow as pa
import pydantic

import legato as lg
from legato.definitions.io import IOContext


class Order(msgspec.Struct):
    id: int
    amount: float


class Customer(pydantic.BaseModel):
    name: str


class RecordingIO:
    """An IO manager that keeps what it is given: whatever it holds was published."""

    def __init__(self) -> None:
        self.saved: dict[str, Any] = {}

    def store(self, context: IOContext, value: Any) -> Mapping[str, Any]:
        self.saved[str(context.step)] = value
        return {}

    def load(self, context: IOContext) -> Any:
        return self.saved[str(context.step)]

    def exists(self, context: IOContext) -> bool:
        return str(context.step) in self.saved


def _run(*steps: lg.StepDef) -> tuple[lg.RunResult, RecordingIO]:
    io = RecordingIO()
    result = lg.materialize(steps, io_managers={"io_manager": io}, raise_on_error=False)
    return result, io


def test_a_value_that_breaks_its_annotation_fails_the_step_and_is_never_stored():
    @lg.asset
    def codes() -> list[int]:
        return [1, "b", 3]  # type: ignore[list-item]

    @lg.asset
    def total(codes: list[int]) -> int:
        return sum(codes)

    result, io = _run(codes, total)
    assert not result.success
    error = result.failures()["codes"]
    assert error["type"] == "legato.errors.ContractViolation"
    assert f"step 'codes' ({codes.source}) returned a value that does not fit" in error["message"]
    assert "does not fit its return annotation list[int]" in error["message"]
    assert "Expected `int`, got `str` - at `$[1]`" in error["message"]
    assert io.saved == {}  # nothing published
    assert result.steps["total"].status.value == "skipped"


def test_the_fields_of_struct_instances_are_checked_too():
    @lg.task
    def orders() -> list[Order]:
        return [Order(1, 2.5), Order("2", 3.0)]  # type: ignore[arg-type]

    result, io = _run(orders)
    assert "Expected `int`, got `str` - at `$[1].id`" in result.failures()["orders"]["message"]
    assert io.saved == {}


def test_pydantic_models_are_checked_by_their_class():
    @lg.task
    def customers() -> dict[str, Customer]:
        return {"a": Customer(name="Ada"), "b": {"name": "Bob"}}  # type: ignore[dict-item]

    result, io = _run(customers)
    assert (
        "Expected `Customer`, got `dict` - at `$[...]`" in result.failures()["customers"]["message"]
    )
    assert io.saved == {}


def test_a_value_that_fits_is_stored_as_returned():
    rows = [{"id": 1, "amount": 2.5}]

    @lg.asset
    def orders() -> list[dict[str, float]]:
        return rows

    @lg.asset
    def untyped():
        return object()  # no annotation: nothing checked

    result, io = _run(orders, untyped)
    assert result.success
    assert io.saved["orders"] is rows  # the value itself, not a converted copy


def test_a_pandas_table_with_a_retyped_column_or_nulls_names_the_columns_and_rows():
    @lg.asset(
        contract=lg.TableContract(
            {"id": "int64", "amount": "float64", "region": "string"}, not_null=["amount"]
        )
    )
    def orders() -> pd.DataFrame:
        return pd.DataFrame(
            {"id": ["1", "2", "3"], "amount": [1.0, None, float("nan")], "region": ["eu"] * 3}
        )

    result, io = _run(orders)
    message = result.failures()["orders"]["message"]
    assert "column 'id' is string, the contract says int64" in message
    assert "column 'amount' has nulls, first at row(s) [1, 2]" in message
    assert "region" not in message  # object/str columns of text are string columns
    assert io.saved == {}


def test_an_arrow_table_missing_a_column_or_with_nulls_is_refused():
    schema = pa.schema([pa.field("id", pa.int64(), nullable=False), pa.field("x", pa.float64())])

    @lg.asset(contract=schema)
    def events() -> pa.Table:
        return pa.table({"id": pa.array([1, None, 3], pa.int64())})

    result, io = _run(events)
    message = result.failures()["events"]["message"]
    assert "column 'x' is missing (the contract says float64)" in message
    assert "column 'id' has nulls, first at row(s) [1]" in message
    assert io.saved == {}


def test_a_polars_table_is_checked_by_its_dtypes_and_nulls():
    contract = lg.TableContract({"id": "int64", "at": "timestamp[us]"}, not_null=["id"])

    @lg.asset(contract=contract)
    def good() -> pl.DataFrame:
        return pl.DataFrame({"id": [1, 2], "at": [None, None]}).cast({"at": pl.Datetime("us")})

    @lg.asset(contract=contract)
    def bad() -> pl.DataFrame:
        return pl.DataFrame({"id": [None, 2], "at": ["2026-01-01", None]})

    result, io = _run(good, bad)
    assert list(io.saved) == ["good"]
    message = result.failures()["bad"]["message"]
    assert "column 'at' is string, the contract says timestamp[us]" in message
    assert "column 'id' has nulls, first at row(s) [0]" in message


def test_a_table_contract_on_something_that_is_no_table_says_so():
    @lg.asset(contract=lg.TableContract({"id": "int64"}))
    def orders():
        return [{"id": 1}]

    result, io = _run(orders)
    assert "returned list, not a table" in result.failures()["orders"]["message"]
    assert io.saved == {}


def test_the_check_runs_in_the_worker_that_ran_the_step():
    @lg.asset
    def codes() -> list[int]:
        return ["a"]  # type: ignore[list-item]

    io = RecordingIO()
    result = lg.materialize(
        [codes], io_managers={"io_manager": io}, executor="threads", raise_on_error=False
    )
    assert "at `$[0]`" in result.failures()["codes"]["message"]
    assert io.saved == {}
