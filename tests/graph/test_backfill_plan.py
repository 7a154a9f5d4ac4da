"""Planning a backfill: runs in dependency order, and windows it covers only in part left waiting."""

from collections.abc import Collection

import legato as lg
from legato.definitions.partitions import DailyPartitions, MonthlyPartitions, RollUp
from legato.definitions.project import Project
from legato.graph.backfill import plan_backfill
from legato.graph.build import build_graph
from legato.graph.graph import Graph
from legato.graph.plan import partition_range

DAYS = DailyPartitions(start="2025-01-01", end="2025-12-31")
MONTHS = MonthlyPartitions(start="2025-01-01", end="2025-12-31")


def _graph(min_count: int | None = None) -> Graph:
    @lg.asset(partitions=DAYS)
    def orders():
        return 1

    @lg.asset(partitions=MONTHS, ins={"orders": lg.Dep("orders", mapping=RollUp(min_count))})
    def monthly(orders):
        return orders

    return build_graph(Project.of([orders, monthly]))


def _march(first: int, last: int) -> list[str]:
    return [f"2025-03-{d:02d}" for d in range(first, last + 1)]


def test_a_month_of_which_two_days_are_backfilled_waits_naming_the_missing_days():
    plan = plan_backfill(_graph(), ["orders", "monthly"], _march(1, 2))
    assert [g.nodes for g in plan.groups] == [("orders",), ("orders",)]
    [waiting] = plan.waiting
    assert (waiting.node, waiting.key) == ("monthly", "2025-03")
    assert waiting.missing["orders"] == tuple(_march(3, 31))
    assert waiting.describe() == (
        "monthly[2025-03] waits for orders 2025-03-03, 2025-03-04, 2025-03-05 … (29 missing)"
    )


def test_a_month_is_planned_once_its_days_are_planned_or_materialized():
    done = {"orders": set(_march(1, 29))}
    plan = plan_backfill(_graph(), ["orders", "monthly"], _march(30, 31), materialized=done)
    assert plan.waiting == ()
    assert plan.groups[-1].nodes == ("monthly",) and plan.groups[-1].after == (0, 1)


def test_a_roll_up_with_min_count_runs_once_that_many_days_will_exist():
    assert plan_backfill(_graph(min_count=20), ["orders", "monthly"], _march(1, 20)).waiting == ()
    assert (
        len(plan_backfill(_graph(min_count=20), ["orders", "monthly"], _march(1, 19)).waiting) == 1
    )


def test_a_month_asked_for_by_name_is_planned_and_its_run_says_what_it_lacks():
    plan = plan_backfill(_graph(), ["orders", "monthly"], [*_march(1, 2), "2025-03"])
    assert plan.waiting == ()
    assert plan.groups[-1].nodes == ("monthly",)


def test_a_range_plans_as_its_keys_do_and_asks_about_the_upstream_keys_it_does_not_plan():
    graph = _graph()
    ranged = partition_range(graph, ["orders"], "2025-03-03", "2025-03-31")
    asked: list[tuple[str, int]] = []

    def materialized(asset: str, keys: Collection[str]) -> set[str]:
        asked.append((asset, len(keys)))
        return {k for k in keys if k < "2025-03-03"}

    plan = plan_backfill(graph, ["orders", "monthly"], ranged, materialized=materialized)
    listed = plan_backfill(
        graph, ["orders", "monthly"], list(ranged), materialized={"orders": _march(1, 2)}
    )
    assert plan == listed
    assert plan.waiting == () and plan.groups[-1].nodes == ("monthly",)
    assert asked == [("orders", 2)]  # March 1 and 2: the month reads them, the backfill skips them
    again = plan_backfill(
        graph, ["orders"], ranged, materialized=lambda a, keys: set(keys), missing_only=True
    )
    assert again.groups == () and again.skipped == {"orders": 29}
