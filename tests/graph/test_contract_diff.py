"""Contract changes between two versions of a project: breaking or compatible, each named."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pandas as pd
import pytest

import legato as lg
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.contract_diff import compare_contracts
from legato.graph.contracts import contracts_snapshot

BASE = lg.TableContract({"id": "int64", "amount": "float64"}, not_null=["id"])


def _snapshot(*steps: lg.StepDef) -> dict[str, Any]:
    data = contracts_snapshot(build_graph(Project.of(steps)))
    return json.loads(json.dumps(data))  # as the file gives it back


def _changes(old: list[lg.StepDef], new: list[lg.StepDef]) -> list[tuple[bool, str]]:
    return [(c.breaking, c.message) for c in compare_contracts(_snapshot(*old), _snapshot(*new))]


def _orders(contract: lg.TableContract, key: str = "orders") -> lg.StepDef:
    @lg.asset(key=key, contract=contract)
    def orders() -> pd.DataFrame:
        return pd.DataFrame()

    return orders


def test_the_same_project_has_no_change():
    assert _changes([_orders(BASE)], [_orders(BASE)]) == []


def test_removed_and_retyped_columns_break_added_ones_do_not():
    new = lg.TableContract({"id": "string", "region": "string"}, not_null=["id"])
    assert _changes([_orders(BASE)], [_orders(new)]) == [
        (True, "orders: column 'id' is string instead of int64"),
        (True, "orders: column 'amount' was removed (it was float64)"),
        (False, "orders: column 'region' was added (string)"),
    ]


def test_nulls_allowed_break_nulls_forbidden_do_not():
    nullable = lg.TableContract({"id": "int64", "amount": "float64"})
    strict = lg.TableContract({"id": "int64", "amount": "float64"}, not_null=["id", "amount"])
    assert _changes([_orders(BASE)], [_orders(nullable)]) == [
        (True, "orders: column 'id' may now hold nulls")
    ]
    assert _changes([_orders(BASE)], [_orders(strict)]) == [
        (False, "orders: column 'amount' is now never null")
    ]


def test_a_narrowed_output_is_compatible_and_a_widened_one_breaks():
    @lg.asset(key="score")
    def maybe() -> int | None:
        return 1

    @lg.asset(key="score")
    def always() -> int:
        return 1

    assert _changes([maybe], [always]) == [
        (False, "score returns int instead of int | None: narrower, every value fits")
    ]
    [(breaking, message)] = _changes([always], [maybe])
    assert breaking and "score returns int | None instead of int" in message
    assert "at $: int | None is produced" in message


def test_a_widened_input_is_compatible_and_a_narrowed_one_breaks():
    @lg.asset
    def counts() -> Any:
        return [1]

    @lg.asset(key="total")
    def wide(counts: list[float]) -> float:
        return sum(counts)

    @lg.asset(key="total")
    def narrow(counts: list[int]) -> float:
        return sum(counts)

    assert _changes([counts, narrow], [counts, wide]) == [
        (False, "total's parameter 'counts' accepts list[float] instead of list[int]: wider")
    ]
    [(breaking, message)] = _changes([counts, wide], [counts, narrow])
    assert breaking and "expects list[int] instead of list[float]: narrower" in message


def test_an_annotation_added_is_compatible_and_one_removed_from_an_output_breaks():
    @lg.asset(key="score")
    def typed() -> int:
        return 1

    @lg.asset(key="score")
    def untyped():
        return 1

    assert _changes([untyped], [typed]) == [(False, "score declares it returns int now")]
    assert _changes([typed], [untyped]) == [
        (True, "score no longer declares what it returns (it was int)")
    ]


def test_needing_more_columns_breaks_needing_fewer_does_not():
    orders = _orders(BASE)

    @lg.asset(key="revenue")
    def few(orders: Annotated[pd.DataFrame, lg.Needs(["amount"])]) -> float:
        return 0.0

    @lg.asset(key="revenue")
    def more(
        orders: Annotated[pd.DataFrame, lg.Needs({"amount": "float64", "id": "int64"})],
    ) -> float:
        return 0.0

    assert _changes([orders, few], [orders, more]) == [
        (True, "revenue's parameter 'orders' needs column 'amount' as float64, not any"),
        (True, "revenue's parameter 'orders' now needs column 'id' (int64)"),
    ]
    assert _changes([orders, more], [orders, few]) == [
        (False, "revenue's parameter 'orders' needs column 'amount' as any, not float64"),
        (False, "revenue's parameter 'orders' no longer needs column 'id'"),
    ]


def test_a_removed_asset_breaks_when_something_read_it_and_a_new_one_never_does():
    orders = _orders(BASE)

    @lg.asset
    def revenue(orders) -> float:
        return 0.0

    @lg.asset
    def unread() -> int:
        return 1

    changes = _changes([orders, revenue, unread], [_orders(BASE, key="orders_v2")])
    assert changes == [
        (True, "asset 'orders' was removed; revenue read it"),
        (False, "new asset 'orders_v2'"),
        (False, "asset 'revenue' was removed; nothing read it"),
        (False, "asset 'unread' was removed; nothing read it"),
    ]


def test_a_file_that_is_no_contracts_snapshot_is_refused_with_the_fix():
    with pytest.raises(lg.LegatoError) as info:
        compare_contracts({"nodes": []}, _snapshot(_orders(BASE)))
    assert "the old version is not a contracts snapshot" in str(info.value)
    assert "legato check --snapshot-out FILE" in str(info.value)
