"""The compatibility relation between what a producer returns and what a consumer expects."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, NotRequired, Optional

import msgspec
import pydantic
import pytest
from typing_extensions import TypedDict

from legato.definitions.contracts import Needs, TableContract
from legato.graph.compat import table_mismatch, value_mismatch
from legato.graph.shapes import render, shape_of


class Order(msgspec.Struct):
    id: int
    amount: float


class PaidOrder(Order):
    paid_at: str


class Invoice(msgspec.Struct):  # Order's fields, another class
    id: int
    amount: float


class Row(TypedDict):
    id: int
    amount: float
    note: NotRequired[str]


class Slim(TypedDict):
    id: int


class Sparse(TypedDict):
    id: NotRequired[int]


class Tree(msgspec.Struct):
    children: list[Tree]


class Customer(pydantic.BaseModel):
    name: str
    orders: list[int] = []


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def fits(produced: Any, expected: Any) -> bool:
    return value_mismatch(shape_of(produced), shape_of(expected)) is None


COMPATIBLE = [
    (list[int], list[int]),
    (list[int], Any),
    (Any, list[int]),
    (object, list[int]),
    (list[int], list[float]),  # msgspec takes an int where a float is expected
    (list[int], list),
    (int, Optional[int]),  # noqa: UP045 - the spelling older code uses
    (int, int | str),
    (Literal["eu", "us"], str),
    (Literal["eu"], Literal["eu", "us"]),
    (dict[str, Order], dict[str, Order]),
    (dict[str, PaidOrder], Mapping[str, Order]),  # a subclass is its base class
    (tuple[int, str], tuple[int | str, ...]),
    (tuple[int, ...], Sequence[int] | tuple[int, ...]),
    (Row, Slim),  # a TypedDict with more fields
    (Row, dict[str, float | str]),
    (Tree, Tree),  # recursive: terminates
    (Customer, Customer),
    (Annotated[int, msgspec.Meta(ge=5)], Annotated[int, msgspec.Meta(ge=0)]),
    (Annotated[int, msgspec.Meta(gt=0)], Annotated[int, msgspec.Meta(ge=0)]),
    (Annotated[str, msgspec.Meta(max_length=3)], Annotated[str, msgspec.Meta(max_length=8)]),
    (Color, Color),
    (None, None),
]


@pytest.mark.parametrize(("produced", "expected"), COMPATIBLE)
def test_a_producer_type_fits_the_same_type_or_a_wider_one(produced: Any, expected: Any):
    assert fits(produced, expected), f"{produced} should fit {expected}"


INCOMPATIBLE = [
    (list[str], list[int], "$[*]"),
    (list[float], list[int], "$[*]"),  # narrowing a float may lose its fraction
    (list[bool], list[int], "$[*]"),  # msgspec refuses a bool where an int is expected
    (int | None, int, "$"),
    (str, Literal["eu"], "$"),
    (Literal["eu", "apac"], Literal["eu", "us"], "$"),
    (dict[str, int], dict[int, int], "$ (keys)"),
    (dict[str, list[str]], dict[str, list[int]], "$[*][*]"),
    (Order, PaidOrder, "$"),  # a base class is not its subclass
    (Invoice, Order, "$"),  # classes are nominal: Order's fields are not enough
    (tuple[int, str], tuple[int, int], "$[1]"),
    (tuple[int, str], tuple[int, ...], "$[1]"),
    (list[int], tuple[int, ...], "$"),
    (Slim, Row, "$.amount"),  # a required field the producer lacks
    (Sparse, Slim, "$.id"),  # a required field the producer may leave out
    (Row, dict[str, int], "$.amount"),
    (list[Order], list[Row], "$[*]"),  # a Struct is not a dict
    (Annotated[int, msgspec.Meta(ge=0)], Annotated[int, msgspec.Meta(ge=5)], "$"),
    (int, Annotated[int, msgspec.Meta(ge=0)], "$"),
    (str, Annotated[str, msgspec.Meta(max_length=8)], "$"),
    (Customer, Order, "$"),
    (int, str, "$"),
    (None, int, "$"),
]


@pytest.mark.parametrize(("produced", "expected", "path"), INCOMPATIBLE)
def test_a_narrower_or_other_expectation_is_refused_at_its_path(
    produced: Any, expected: Any, path: str
):
    found = value_mismatch(shape_of(produced), shape_of(expected))
    assert found is not None, f"{produced} should not fit {expected}"
    assert found.path == path
    assert found.reason


def test_a_mismatch_names_both_types_where_they_differ():
    found = value_mismatch(shape_of(list[str]), shape_of(list[int]))
    assert found is not None
    assert (found.produced, found.expected) == ("str", "int")
    assert found.describe() == "at $[*]: str is produced, int is expected"


def test_two_classes_of_one_name_are_told_apart_by_their_module():
    shape = shape_of(Order)
    other = {**shape, "name": "elsewhere.Order", "bases": ["elsewhere.Order"]}
    found = value_mismatch(other, shape)
    assert found is not None and found.produced == "elsewhere.Order"


def test_a_class_changed_between_versions_is_compared_field_by_field():
    old = shape_of(Order)
    new = json.loads(json.dumps(old))  # as a snapshot file would give it back
    new["fields"]["amount"]["type"] = {"kind": "str"}
    found = value_mismatch(new, old)
    assert found is not None and found.path == "$.amount"
    assert value_mismatch(json.loads(json.dumps(old)), old) is None


def test_an_enum_with_more_members_does_not_fit_the_one_with_fewer():
    old = shape_of(Color)
    fewer = {**old, "values": ["red"]}
    assert value_mismatch(fewer, old) is None
    assert value_mismatch(old, fewer) is not None


def test_shapes_render_as_annotations():
    assert render(shape_of(dict[str, list[Order | None]])) == "dict[str, list[Order | None]]"
    assert render(shape_of(tuple[int, ...])) == "tuple[int, ...]"
    assert render(shape_of(Literal["a"])) == "Literal['a']"
    assert render(shape_of(Annotated[int, msgspec.Meta(ge=0)])) == "int (ge=0)"
    assert render(shape_of("NotImported")) == "Any"  # an annotation that did not resolve


def _cols(contract: TableContract) -> dict[str, Any]:
    return contract.describe()


def test_a_needed_column_must_be_in_the_contract_with_its_dtype():
    contract = _cols(TableContract({"id": "int64", "amount": "string"}, not_null=["id"]))
    assert table_mismatch(contract, _cols(Needs({"id": "int64"}))) is None
    assert table_mismatch(contract, _cols(Needs(["id", "amount"]))) is None  # any dtype
    assert table_mismatch(contract, _cols(Needs({"id": "int64"}, not_null=["id"]))) is None
    assert table_mismatch(None, _cols(Needs({"x": "bool"}))) is None  # no contract: unknown
    missing = table_mismatch(contract, _cols(Needs({"region": "string"})))
    assert missing is not None and missing.path == "column 'region'"
    assert "has no 'region'" in missing.reason
    retyped = table_mismatch(contract, _cols(Needs({"amount": "float64"})))
    assert retyped is not None
    assert (retyped.produced, retyped.expected) == ("string", "float64")
    nullable = table_mismatch(contract, _cols(Needs({"amount": "any"}, not_null=["amount"])))
    assert nullable is not None and "allows nulls" in nullable.reason


def test_a_dtype_family_takes_any_unit_but_not_the_other_way_round():
    precise = _cols(TableContract({"at": "timestamp[us, tz=UTC]"}))
    loose = _cols(TableContract({"at": "timestamp"}))
    assert table_mismatch(precise, _cols(Needs({"at": "timestamp"}))) is None
    assert table_mismatch(loose, _cols(Needs({"at": "timestamp[us, tz=UTC]"}))) is not None
