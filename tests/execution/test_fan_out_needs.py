"""A fan-out maps over one list made in the same run; a plan that breaks either rule is refused
before the run starts (it used to crash the engine with a KeyError mid-run)."""

from __future__ import annotations

from pathlib import Path

import pytest

import legato as lg
from legato.store.engine import Store
from legato.store.runs import list_runs

DAYS = lg.DailyPartitions(start="2025-01-01", end="2025-01-10")


def _orders_and(each_partitions: object) -> list:  # type: ignore[type-arg]
    @lg.asset(partitions=DAYS)
    def orders() -> list[int]:
        return [1, 2, 3]

    @lg.task(map_over="orders", partitions=each_partitions)
    def each(orders: int) -> int:
        return orders * 2

    return [orders, each]


def test_a_fan_out_over_many_partitions_of_its_list_is_refused_naming_the_fix(
    sqlite_store: Store, tmp_path: Path
) -> None:
    with pytest.raises(lg.PartitionError) as refused:
        lg.materialize(
            _orders_and(None), partition="2025-01-02", store=sqlite_store, storage=tmp_path
        )
    assert "each (map_over='orders') would read 9 partitions of 'orders'" in refused.value.message
    assert "give 'each' the partitions of 'orders'" in (refused.value.hint or "")
    assert list_runs(sqlite_store) == []  # refused before a run was recorded


def test_a_fan_out_over_a_list_this_run_does_not_make_is_refused_naming_the_fix(
    store: Store, tmp_path: Path
) -> None:
    steps = _orders_and(DAYS)
    both = lg.materialize(steps, partition="2025-01-02", store=store, storage=tmp_path)
    assert both.output("each[2025-01-02]") == [2, 4, 6]
    with pytest.raises(lg.SelectionError) as refused:
        lg.materialize(
            steps, selection="each", partition="2025-01-02", store=store, storage=tmp_path
        )
    assert "maps over orders[2025-01-02], which this run does not make" in refused.value.message
    assert refused.value.hint == "select 'orders' too (e.g. 'orders+')"
    assert [r.run_id for r in list_runs(store)] == [both.run_id]
