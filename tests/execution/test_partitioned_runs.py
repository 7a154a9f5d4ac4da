"""Partitioned runs end to end: values per key, roll-ups receiving dicts, status per key."""

import pytest

import legato as lg
from legato.definitions.partitions import (
    DailyPartitions,
    Dimension,
    DynamicPartitions,
    MonthlyPartitions,
    RollUp,
)
from legato.store.engine import Store
from legato.store.partitions import add_dynamic_keys, partition_statuses, status_counts

DAYS = DailyPartitions(start="2025-01-01", end="2025-12-31")
MONTHS = MonthlyPartitions(start="2025-01-01", end="2025-12-31")


def _defs():
    @lg.asset(partitions=DAYS)
    def sales(context) -> int:
        return int(context.partition_key[-2:])  # day of month

    @lg.asset(partitions=MONTHS, ins={"sales": lg.Dep("sales", mapping=RollUp(min_count=2))})
    def monthly(sales: dict[str, int]) -> int:
        return sum(sales.values())

    return sales, monthly


def test_roll_up_receives_a_dict_of_the_days_that_exist(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/db")
    sales, monthly = _defs()
    for day in ("2025-03-01", "2025-03-02"):
        lg.materialize(
            [sales, monthly], selection="sales", partition=day, store=store, storage=tmp_path / "s"
        )
    result = lg.materialize(
        [sales, monthly],
        selection="sales+",
        partition="2025-03-05",
        store=store,
        storage=tmp_path / "s",
    )
    assert result.output("monthly[2025-03]") == 1 + 2 + 5
    statuses = partition_statuses(store, "sales")
    assert sorted(statuses) == ["2025-03-01", "2025-03-02", "2025-03-05"]
    assert status_counts(store, "sales") == {"materialized": 3}


def test_too_few_upstream_keys_fail_the_roll_up_with_the_fix(tmp_path):
    sales, monthly = _defs()
    result = lg.materialize(
        [sales, monthly], partition="2025-04-01", raise_on_error=False, storage=tmp_path / "s"
    )
    message = result.steps["monthly[2025-04]"].error["message"]
    assert "no value for partition(s) 2025-04-02" in message
    assert "1 of 30 present, at least 2 needed" in message


def test_failed_and_in_progress_statuses_are_recorded_per_key(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/db")

    @lg.asset(partitions=DAYS)
    def flaky(context):
        if context.partition_key == "2025-01-02":
            raise ValueError("bad day")
        return 1

    lg.materialize(
        [flaky], partition=["2025-01-01", "2025-01-02"], store=store, raise_on_error=False
    )
    statuses = partition_statuses(store, "flaky")
    assert statuses["2025-01-01"].status == "materialized"
    assert statuses["2025-01-02"].status == "failed"
    assert statuses["2025-01-02"].materialized_at is None


def test_dynamic_tenants_times_days_with_a_fan_in_per_date(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/db")
    tenants = DynamicPartitions("tenants")
    assert add_dynamic_keys(store, "tenants", ["acme", "globex"]) == ["acme", "globex"]
    assert add_dynamic_keys(store, "tenants", ["acme"]) == []

    @lg.asset(partitions=tenants * DAYS)
    def usage(context) -> int:
        return len(context.partition_key)

    @lg.asset(partitions=DAYS, ins={"usage": lg.Dep("usage", mapping=Dimension(on="date"))})
    def total(usage: dict[str, int]) -> int:
        return sum(usage.values())

    keys = ["tenants=acme,date=2025-01-02", "tenants=globex,date=2025-01-02"]
    result = lg.materialize([usage, total], partition=keys, store=store, storage=tmp_path / "s")
    assert result.output("total[2025-01-02]") == sum(len(k) for k in keys)
    with pytest.raises(lg.PartitionError, match="initech"):
        lg.materialize([usage, total], partition="tenants=initech,date=2025-01-02", store=store)


def test_hostile_dynamic_keys_are_refused():
    store = Store("sqlite://")
    for bad in ["../etc", "a,b", "x\x00y", "%2e%2e"]:
        with pytest.raises(lg.PartitionError):
            add_dynamic_keys(store, "tenants", [bad])


def test_a_single_run_asset_processes_a_whole_range_in_one_step(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/db")
    calls = []

    @lg.asset(partitions=DAYS, single_run=True)
    def prices(context) -> dict[str, int]:
        calls.append(context.partition_keys)
        return {k: int(k[-2:]) for k in context.partition_keys}

    @lg.asset(partitions=DAYS)
    def doubled(prices: int) -> int:
        return prices * 2

    keys = [f"2025-05-{d:02d}" for d in range(1, 11)]
    result = lg.materialize([prices, doubled], partition=keys, store=store, storage=tmp_path / "s")
    assert calls == [tuple(keys)]  # one call for ten days
    assert result.output("doubled[2025-05-07]") == 14
    assert sorted(partition_statuses(store, "prices")) == keys
    assert "prices[2025-05-01..2025-05-10]" in result.steps


def test_a_single_run_asset_must_return_every_key():
    @lg.asset(partitions=DAYS, single_run=True)
    def partial(context) -> dict[str, int]:
        return {context.partition_keys[0]: 1}

    result = lg.materialize([partial], partition=["2025-05-01", "2025-05-02"], raise_on_error=False)
    [step] = result.steps.values()
    assert "returned no value for ['2025-05-02']" in step.error["message"]


def test_a_pool_never_runs_more_steps_than_its_size(tmp_path):
    import threading
    import time as _time

    running = []
    peak = []
    lock = threading.Lock()

    @lg.task
    def items() -> list[int]:
        return list(range(12))

    @lg.task(map_over="items", pool="warehouse")
    def load(items: int) -> int:
        with lock:
            running.append(items)
            peak.append(len(running))
        _time.sleep(0.02)
        with lock:
            running.remove(items)
        return items

    store = Store(f"sqlite:///{tmp_path}/db")
    result = lg.materialize(
        [items, load], executor="threads", max_concurrency=6, store=store, pools={"warehouse": 2}
    )
    assert sorted(result.output("load")) == list(range(12))
    assert max(peak) <= 2


def test_a_pool_without_a_size_is_a_clear_error():
    @lg.task(pool="warehouse")
    def load() -> int:
        return 1

    with pytest.raises(lg.ConfigError, match=r"uses pool 'warehouse'.*warehouse = 4"):
        lg.materialize([load])
