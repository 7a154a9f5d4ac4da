"""``external_asset``: another project's asset, read here and never run here."""

from __future__ import annotations

from pathlib import Path

import pytest

import legato as lg
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.plan import plan_run
from legato.graph.select import select


def test_a_parameter_reads_an_external_asset_that_no_plan_runs():
    orders = lg.external_asset("orders", project="sales")

    @lg.asset
    def revenue(orders: list[int]) -> int:
        return sum(orders)

    graph = build_graph(Project.of([orders, revenue]))
    assert graph["revenue"].inputs == {"orders": "orders"}
    lines = Path(__file__).read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if 'external_asset("orders", p' in text)
    assert orders.external == "sales" and orders.source == f"{__file__}:{line}"
    assert [str(s.key) for s in plan_run(graph, select(graph, "*")).steps] == ["revenue"]
    assert [str(s.key) for s in plan_run(graph, ["orders", "revenue"]).steps] == ["revenue"]
    with pytest.raises(lg.SelectionError, match=r"asset 'orders' .* is external: project 'sales'"):
        plan_run(graph, ["orders"])


def test_a_run_loads_the_value_another_project_stored(tmp_path):
    @lg.asset(key="orders")
    def produced() -> list[int]:
        return [2, 3]

    lg.materialize([produced], storage=tmp_path)  # the other project, on shared storage
    orders = lg.external_asset("orders")

    @lg.asset
    def revenue(orders: list[int]) -> int:
        return sum(orders)

    result = lg.materialize([orders, revenue], storage=tmp_path)
    assert result.output("revenue") == 5 and "orders" not in result.outputs
    with pytest.raises(lg.DefinitionError, match="never run here"):
        orders()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"key": "bad key"}, "external asset key 'bad key' .* is not a valid key"),
        ({"key": "orders", "project": ""}, "project='' is not a project name"),
        ({"key": "orders", "partitions": "daily"}, "partitions='daily' is not a partition space"),
    ],
)
def test_a_bad_external_asset_names_the_line_and_the_fix(kwargs, match):
    with pytest.raises(lg.DefinitionError, match=match) as info:
        lg.external_asset(**kwargs)
    assert f"{__file__}:" in str(info.value) and info.value.hint
