"""Declaring table contracts: dtypes in any library's spelling, and errors that teach the fix."""

from __future__ import annotations

import pyarrow as pa
import pytest

import legato as lg
from legato.definitions.contracts import dtype_name


@pytest.mark.parametrize(
    ("spelling", "dtype"),
    [
        ("int64", "int64"),
        ("Int64", "int64"),  # pandas' nullable integer, polars' Int64
        ("int64[pyarrow]", "int64"),
        ("double", "float64"),  # Arrow
        ("Float64", "float64"),
        ("boolean", "bool"),
        ("str", "string"),  # pandas 3
        ("String", "string"),  # polars
        ("large_string", "string"),
        ("date32[day]", "date"),
        ("datetime64[ns]", "timestamp[ns]"),
        ("datetime64[ns, UTC]", "timestamp[ns, tz=UTC]"),
        ("timestamp[us, tz=Europe/Paris]", "timestamp[us, tz=Europe/Paris]"),
        ("timedelta64[ns]", "duration[ns]"),
        ("decimal128(10, 2)", "decimal(10,2)"),
        ("dictionary<values=string, indices=int32, ordered=0>", "category"),
    ],
)
def test_each_librarys_spelling_of_a_dtype_is_one_dtype(spelling: str, dtype: str):
    assert dtype_name(spelling) == dtype


def test_a_table_contract_keeps_columns_in_their_canonical_dtype():
    contract = lg.TableContract({"id": "Int64", "amount": "double"}, not_null=["id"])
    assert contract.columns == {"id": "int64", "amount": "float64"}
    assert contract.not_null == frozenset({"id"})
    assert contract.describe() == {
        "columns": {"id": "int64", "amount": "float64"},
        "not_null": ["id"],
    }
    assert repr(contract) == "TableContract({'id': 'int64', 'amount': 'float64'}, not_null=['id'])"


def test_needs_given_as_names_takes_any_dtype():
    assert lg.Needs(["id", "amount"]).columns == {"id": "any", "amount": "any"}


@pytest.mark.parametrize(
    ("columns", "not_null", "error"),
    [
        ({"amount": "float"}, (), "did you mean 'float64'?"),
        ({"amount": "money"}, (), "use one of int8..int64"),
        ({}, (), "names no column"),
        ("id", (), "not a mapping of column names"),
        ({"id": "int64"}, ["amount"], "not_null names ['amount']"),
    ],
)
def test_a_bad_table_contract_says_what_to_write(columns, not_null, error):
    with pytest.raises(lg.DefinitionError) as info:
        lg.TableContract(columns, not_null=not_null)
    assert error in str(info.value)


def test_a_pyarrow_schema_is_a_contract_whose_non_nullable_fields_are_not_null():
    schema = pa.schema(
        [
            pa.field("id", pa.int64(), nullable=False),
            pa.field("ratio", pa.float32()),
            pa.field("at", pa.timestamp("us", tz="UTC")),
        ]
    )

    @lg.asset(contract=schema)
    def events(): ...

    assert events.contract == lg.TableContract(
        {"id": "int64", "ratio": "float32", "at": "timestamp[us, tz=UTC]"}, not_null=["id"]
    )


def test_a_contract_that_is_no_table_contract_is_refused_with_the_fix():
    with pytest.raises(lg.DefinitionError) as info:

        @lg.asset(contract={"id": "int64"})
        def orders(): ...

    message = str(info.value)
    assert "asset 'orders'" in message and "test_table_contracts.py:" in message
    assert "TableContract" in message and "return annotation" in message


def test_a_task_declares_a_table_contract_too():
    @lg.task(contract=lg.TableContract({"id": "int64"}))
    def extract(): ...

    assert extract.contract is not None and extract.contract.columns == {"id": "int64"}
