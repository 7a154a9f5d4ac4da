"""Planning partitioned runs: keys follow mappings, and each step knows which upstream keys it reads."""

import pytest

import legato as lg
from legato.definitions.keys import StepKey
from legato.definitions.partitions import (
    DailyPartitions,
    Dimension,
    DynamicPartitions,
    MonthlyPartitions,
    StaticPartitions,
    TimeWindow,
)
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.plan import partition_range, plan_run

DAYS = DailyPartitions(start="2025-01-01", end="2025-12-31")
MONTHS = MonthlyPartitions(start="2025-01-01", end="2025-12-31")


def test_a_daily_key_plans_its_month_roll_up_which_reads_every_day_of_the_month():
    @lg.asset(partitions=DAYS)
    def orders():
        return 1

    @lg.asset(partitions=MONTHS)
    def monthly(orders):
        return orders

    graph = build_graph(Project.of([orders, monthly]))
    plan = plan_run(graph, {"orders", "monthly"}, partitions=["2025-03-31"])
    assert [str(s.key) for s in plan.steps] == ["orders[2025-03-31]", "monthly[2025-03]"]
    roll_up = plan.steps[1]
    read = roll_up.upstream["orders"]
    assert read.as_mapping and len(read.keys) == 31 and read.keys[0] == "2025-03-01"
    assert roll_up.waits_for == (StepKey("orders", "2025-03-31"),)


def test_previous_day_window_reads_one_value():
    @lg.asset(partitions=DAYS)
    def balance():
        return 1

    @lg.asset(partitions=DAYS, ins={"balance": lg.Dep("balance", mapping=TimeWindow(offset=-1))})
    def delta(balance):
        return balance

    graph = build_graph(Project.of([balance, delta]))
    [step] = plan_run(graph, {"delta"}, partitions=["2025-02-10"]).steps
    assert step.upstream["balance"].keys == ("2025-02-09",)
    assert not step.upstream["balance"].as_mapping


def test_a_product_fans_in_over_tenants_for_a_per_date_asset():
    tenants = DynamicPartitions("tenants")

    @lg.asset(partitions=tenants * DAYS)
    def usage():
        return 1

    @lg.asset(partitions=DAYS, ins={"usage": lg.Dep("usage", mapping=Dimension(on="date"))})
    def daily_total(usage):
        return usage

    graph = build_graph(Project.of([usage, daily_total]))
    dynamic = {"tenants": ["acme", "globex"]}
    plan = plan_run(
        graph,
        {"usage", "daily_total"},
        partitions=["date=2025-01-02,tenants=acme", "tenants=globex,date=2025-01-02"],
        dynamic=dynamic,
    )
    keys = [str(s.key) for s in plan.steps]
    assert keys == [
        "usage[tenants=acme,date=2025-01-02]",
        "usage[tenants=globex,date=2025-01-02]",
        "daily_total[2025-01-02]",
    ]
    total = plan.steps[-1]
    assert set(total.upstream["usage"].keys) == {
        "tenants=acme,date=2025-01-02",
        "tenants=globex,date=2025-01-02",
    }
    assert len(total.waits_for) == 2


def test_a_daily_asset_cannot_silently_depend_on_an_hourly_one():
    hourly = lg.definitions.partitions.HourlyPartitions(start="2025-01-01-00:00")

    @lg.asset(partitions=hourly)
    def clicks():
        return 1

    @lg.asset(partitions=DAYS)
    def daily_clicks(clicks):
        return clicks

    with pytest.raises(lg.PartitionError) as info:
        build_graph(Project.of([clicks, daily_clicks]))
    message = str(info.value)
    assert "daily_clicks" in message and "RollUp()" in message and "Dep(" in message


def test_ranges_cover_every_tenant_for_a_date_range():
    tenants = StaticPartitions(["a", "b"], name="tenant")

    @lg.asset(partitions=tenants * DAYS)
    def usage():
        return 1

    graph = build_graph(Project.of([usage]))
    keys = partition_range(graph, ["usage"], "2025-01-01", "2025-01-03")
    assert len(keys) == 6 and "tenant=b,date=2025-01-03" in keys


def test_a_date_range_of_a_huge_product_is_made_in_order_without_listing_the_space():
    tenants = StaticPartitions([f"t{i:05d}" for i in range(20_000)], name="tenant")
    years = DailyPartitions(start="2000-01-01", end="2025-01-01")  # 180 million keys in all

    @lg.asset(partitions=tenants * years)
    def usage():
        return 1

    graph = build_graph(Project.of([usage]))
    keys = partition_range(graph, ["usage"], "2024-12-30", "2024-12-31")
    assert len(keys) == 40_000
    assert keys[:3] == [
        "tenant=t00000,date=2024-12-30",
        "tenant=t00000,date=2024-12-31",
        "tenant=t00001,date=2024-12-30",
    ]
    assert keys[-1] == "tenant=t19999,date=2024-12-31"
    both_ends = partition_range(
        graph, ["usage"], "tenant=t00001,date=2024-12-31", "tenant=t00002,date=2000-01-02"
    )
    assert both_ends == [
        "tenant=t00001,date=2024-12-31",
        *[f"tenant=t00002,date=2000-01-0{d}" for d in (1, 2)],
    ]
