"""When the project loads, every producer → consumer hand-off is compared: an incompatible pair
is a definition error naming both ends, the path or column, the two types and the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import msgspec
import pandas as pd
import pytest

import legato as lg
from legato.definitions.project import Project
from legato.graph.build import build_graph, find_errors
from legato.graph.contracts import contracts_snapshot

if TYPE_CHECKING:
    from decimal import Decimal

DAYS = lg.DailyPartitions(start="2026-01-01")


def _errors(*steps: lg.StepDef, pipelines: tuple[lg.Pipeline, ...] = ()) -> list[lg.LegatoError]:
    return find_errors(Project.of(steps, pipelines))


def test_a_consumer_expecting_another_item_type_is_an_error_naming_both_ends():
    @lg.asset(group="ingest")
    def codes() -> list[str]:
        return ["a", "b"]

    @lg.asset(group="report")
    def total(codes: list[int]) -> int:
        return sum(codes)

    # the producer and the consumer are in two pipelines: the graph is one
    pipes = (lg.Pipeline("ingest", select="group:ingest"), lg.Pipeline("report", select="total"))
    (error,) = _errors(codes, total, pipelines=pipes)
    assert isinstance(error, lg.ContractError)
    message = str(error)
    assert f"asset 'total' ({total.source})" in message
    assert f"asset 'codes' ({codes.source})" in message
    assert "codes returns list[str], total expects list[int]" in message
    assert "at $[*]: str is produced, int is expected" in message
    assert "make codes return list[int]" in message
    assert "annotate total's parameter 'codes' as list[str]" in message
    assert (error.producer, error.consumer, error.path) == ("codes", "total", "$[*]")
    assert (error.produced, error.expected) == ("str", "int")
    with pytest.raises(lg.ContractError):
        lg.materialize([codes, total])  # the run is refused before any step starts


def test_a_needed_column_that_the_contract_lacks_or_types_otherwise_is_an_error():
    @lg.asset(contract=lg.TableContract({"id": "int64", "amount": "string"}))
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1], "amount": ["2.5"]})

    @lg.asset
    def revenue(orders: Annotated[pd.DataFrame, lg.Needs({"amount": "float64"})]) -> float:
        return float(orders["amount"].sum())

    @lg.asset
    def by_region(orders: Annotated[pd.DataFrame, lg.Needs({"region": "string"})]) -> dict:
        return {}

    retyped, missing = _errors(orders, revenue, by_region)
    assert isinstance(retyped, lg.ContractError) and retyped.path == "column 'amount'"
    assert "column 'amount' is string in the contract, float64 is needed" in str(retyped)
    assert f"({orders.source})" in str(retyped) and f"({revenue.source})" in str(retyped)
    assert "declare 'amount': 'float64' in orders's contract" in str(retyped)
    assert isinstance(missing, lg.ContractError) and missing.path == "column 'region'"
    assert "the contract has no 'region'" in str(missing)


def test_a_table_contract_may_also_be_written_in_the_return_annotation():
    @lg.asset
    def orders() -> Annotated[pd.DataFrame, lg.TableContract({"id": "int64"}, not_null=["id"])]:
        return pd.DataFrame({"id": [1]})

    @lg.asset
    def ids(orders: Annotated[pd.DataFrame, lg.Needs({"id": "int64"}, not_null=["id"])]):
        return list(orders["id"])

    graph = build_graph(Project.of([orders, ids]))
    assert graph["orders"].contract.table == lg.TableContract({"id": "int64"}, not_null=["id"])


def test_compatible_and_unannotated_hand_offs_load():
    @lg.asset
    def counts() -> dict[str, int]:
        return {"a": 1}

    @lg.asset
    def as_floats(counts: dict[str, float]) -> list[float]:  # wider: int fits float
        return list(counts.values())

    @lg.asset
    def anything(counts, as_floats: list):  # unannotated, and a bare list
        return len(counts) + len(as_floats)

    @lg.asset
    def untyped():
        return ["x"]

    @lg.asset
    def strict(untyped: list[int]) -> int:  # an unannotated producer promises nothing
        return len(untyped)

    assert _errors(counts, as_floats, anything, untyped, strict) == []


def test_an_annotation_that_does_not_resolve_is_taken_as_unknown():
    @lg.asset
    def price() -> Decimal:  # imported only under TYPE_CHECKING
        return 1  # type: ignore[return-value]

    @lg.asset
    def doubled(price: int) -> int:
        return price * 2

    assert _errors(price, doubled) == []


def test_a_mapped_steps_results_reach_downstream_as_a_list():
    @lg.task
    def files() -> list[str]:
        return ["a.csv", "b.csv"]

    @lg.task(map_over="files")
    def rows(files: str) -> int:
        return len(files)

    @lg.task
    def total(rows: list[int]) -> int:
        return sum(rows)

    @lg.task
    def names(rows: list[str]) -> str:
        return ",".join(rows)

    (error,) = _errors(files, rows, total, names)
    assert isinstance(error, lg.ContractError) and error.consumer == "names"
    assert "rows returns list[int], names expects list[str]" in str(error)

    @lg.task(map_over="files")
    def sizes(files: int) -> int:  # one item of list[str] is a str
        return files

    (error,) = _errors(files, sizes)
    assert isinstance(error, lg.ContractError) and "files returns str" in str(error)


def test_a_window_of_partitions_reaches_downstream_as_a_mapping_by_key():
    @lg.asset(partitions=DAYS)
    def visits() -> int:
        return 1

    window = lg.Dep("visits", mapping=lg.TimeWindow(lookback=6))

    @lg.asset(partitions=DAYS, ins={"visits": window})
    def weekly(visits: dict[str, int]) -> int:
        return sum(visits.values())

    @lg.asset(partitions=DAYS, ins={"visits": window})
    def wrong(visits: int) -> int:
        return visits

    (error,) = _errors(visits, weekly, wrong)
    assert isinstance(error, lg.ContractError) and error.consumer == "wrong"
    assert "visits returns dict[str, int], wrong expects int" in str(error)


def test_the_contracts_snapshot_is_json_with_sources_relative_to_the_root(tmp_path):
    @lg.asset(contract=lg.TableContract({"id": "int64"}))
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"id": [1]})

    @lg.asset
    def ids(orders: Annotated[pd.DataFrame, lg.Needs(["id"])]) -> list[int]:
        return []

    root = Path(__file__).parent
    data = contracts_snapshot(build_graph(Project.of([orders, ids])), root)
    assert json.loads(json.dumps(data)) == data
    step = data["steps"]["ids"]
    assert step["source"].startswith("test_contracts.py:")
    assert step["output"] == {"kind": "list", "item": {"kind": "int"}}
    assert step["inputs"]["orders"]["upstream"] == "orders"
    assert step["inputs"]["orders"]["needs"] == {"columns": {"id": "any"}, "not_null": []}
    assert data["steps"]["orders"]["table"] == {"columns": {"id": "int64"}, "not_null": []}


class Summary(msgspec.Struct):
    orders: int


class Limits(msgspec.Struct):
    top: int = 3


def test_a_struct_typed_parameter_naming_an_upstream_receives_it_and_is_no_config():
    @lg.asset
    def summary() -> Summary:
        return Summary(2)

    @lg.asset
    def report(summary: Summary, limits: Limits) -> str:
        return f"{summary.orders} orders, top {limits.top}"

    node = build_graph(Project.of([summary, report]))["report"]
    assert node.inputs == {"summary": "summary"}
    assert node.config_param == "limits"
    result = lg.materialize([summary, report])
    assert result.output("report") == "2 orders, top 3"
