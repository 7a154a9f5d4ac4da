"""Hand-offs through an external asset are compared across the two projects: the pairs in both
directions, matched by key (and by project when the external asset names one), with the message
shape of a pair within one project."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

import pandas as pd

import legato as lg
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.contracts import contracts_snapshot
from legato.graph.cross_project import Recorded, cross_project_errors


class Order(TypedDict):
    id: int
    amount: float


class TextOrder(TypedDict):
    id: int
    amount: str


def _recorded(name: str | None, *steps: lg.StepDef) -> Recorded:
    return Recorded(name, contracts_snapshot(build_graph(Project.of(steps)))["steps"])


def _sales(amount: str) -> tuple[lg.StepDef, Recorded]:
    @lg.asset(contract=lg.TableContract({"id": "int64", "amount": amount}))
    def orders() -> pd.DataFrame:
        return pd.DataFrame()

    return orders, _recorded("sales", orders)


def _marketing(project: str | None = "sales") -> tuple[lg.StepDef, Recorded]:
    orders = lg.external_asset("orders", project=project)

    @lg.asset
    def revenue(orders: Annotated[pd.DataFrame, lg.Needs({"amount": "float64"})]) -> float:
        return 0.0

    return revenue, _recorded("marketing", orders, revenue)


def test_a_retyped_column_another_project_needs_is_an_error_from_either_side():
    orders, sales = _sales("string")
    revenue, marketing = _marketing()
    (seen_by_sales,) = cross_project_errors(sales, [marketing])
    (seen_by_marketing,) = cross_project_errors(marketing, [sales])
    expected = (
        f"asset 'revenue' of project 'marketing' ({revenue.source}) reads 'orders' from "
        f"asset 'orders' of project 'sales' ({orders.source}): column 'amount' is string in "
        "the contract, float64 is needed"
    )
    for error in (seen_by_sales, seen_by_marketing):
        assert isinstance(error, lg.ContractError)
        assert error.message == expected
        assert error.hint == (
            "declare 'amount': 'float64' in orders's contract (and return it so), or change "
            "what revenue Needs"
        )
        assert (error.producer, error.consumer, error.path) == (
            "orders",
            "revenue",
            "column 'amount'",
        )
        assert (error.produced, error.expected) == ("string", "float64")
    assert seen_by_sales.source == orders.source  # each project is pointed at its own end
    assert seen_by_marketing.source == revenue.source


def test_compatible_projects_and_unrelated_keys_give_no_error():
    _, sales = _sales("float64")
    _, marketing = _marketing()
    assert cross_project_errors(sales, [marketing]) == []
    assert cross_project_errors(marketing, [sales]) == []

    @lg.asset(contract=lg.TableContract({"id": "string"}))
    def customers() -> pd.DataFrame:
        return pd.DataFrame()

    assert cross_project_errors(_recorded("crm", customers), [marketing]) == []


def test_an_external_asset_matches_the_project_it_names_or_any_without_one():
    _, sales = _sales("string")
    _, marketing = _marketing(project="warehouse")  # produced by another project than 'sales'
    assert cross_project_errors(sales, [marketing]) == []
    assert cross_project_errors(marketing, [sales]) == []
    _, anywhere = _marketing(project=None)
    assert len(cross_project_errors(sales, [anywhere])) == 1
    assert len(cross_project_errors(anywhere, [sales])) == 1
    unnamed = Recorded(None, sales.steps)  # this project has no name: only 'any project' matches
    assert cross_project_errors(unnamed, [marketing]) == []
    (error,) = cross_project_errors(unnamed, [anywhere])
    assert "from asset 'orders' (" in error.message  # this project is not given a name


def test_values_are_compared_as_they_are_handed_over():
    @lg.asset
    def orders() -> list[TextOrder]:
        return []

    sales = _recorded("sales", orders)
    external = lg.external_asset("orders", project="sales")

    @lg.asset
    def totals(orders: list[Order]) -> float:
        return 0.0

    @lg.task(map_over="orders")
    def each(orders: Order) -> None:
        pass

    marketing = _recorded("marketing", external, totals, each)
    errors = sorted(cross_project_errors(marketing, [sales]), key=lambda e: e.consumer)
    assert [(e.consumer, e.path) for e in errors] == [
        ("each", "$.amount"),  # one item of the list, as a step mapping over it gets it
        ("totals", "$[*].amount"),
    ]
    assert "orders returns list[TextOrder], totals expects list[Order]" in errors[1].message
    assert "at $[*].amount: str is produced, float is expected" in errors[1].message


def test_a_snapshot_marks_external_assets_and_how_values_are_handed_over():
    days = lg.DailyPartitions(start="2026-01-01")
    external = lg.external_asset("orders", project="sales", partitions=days)

    @lg.asset(deps=[lg.Dep("orders", mapping=lg.TimeWindow(lookback=7))], partitions=days)
    def weekly(orders: dict[str, Any]) -> int:
        return 0

    steps: dict[str, Any] = _recorded("m", external, weekly).steps
    assert steps["orders"]["external"] == "sales"
    assert steps["weekly"]["inputs"]["orders"]["as_mapping"] is True
    assert (
        "external" not in steps["weekly"] and "one_item" not in steps["weekly"]["inputs"]["orders"]
    )
