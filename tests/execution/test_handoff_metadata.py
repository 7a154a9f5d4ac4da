"""Every materialization records what it handed over: rows, the bytes the IO manager wrote, a
hash of the table's shape, and the numbers the step adds (``context.add_metadata``, ``Output``)."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

import legato as lg
from legato.store.assets import metadata_series
from legato.store.engine import Store


def _materialized(result: lg.RunResult) -> dict[str, dict]:
    return {e["step"]: e["data"]["metadata"] for e in result.events if e["type"] == "materialized"}


def test_rows_bytes_and_schema_hash_are_measured_for_records_and_tables(store: Store, tmp_path):
    @lg.asset
    def records() -> list[dict]:
        return [{"id": 1, "amount": 2.0}, {"amount": 3.0, "id": 2}]

    @lg.asset
    def frame(records: list[dict]) -> pd.DataFrame:
        return pd.DataFrame(records)

    @lg.asset
    def arrow(records: list[dict]) -> pa.Table:
        return pa.Table.from_pylist(records)

    @lg.asset
    def total(frame: pd.DataFrame) -> float:
        return float(frame["amount"].sum())

    found = _materialized(
        lg.materialize([records, frame, arrow, total], store=store, storage=tmp_path)
    )
    assert found["records"]["rows"] == found["frame"]["rows"] == found["arrow"]["rows"] == 2
    assert all(found[k]["bytes"] > 0 for k in found)  # what the IO manager wrote
    assert len({found[k]["schema_hash"] for k in ("records", "frame", "arrow")}) == 3
    assert "rows" not in found["total"] and "schema_hash" not in found["total"]


def test_a_changed_shape_changes_the_hash_and_reordered_keys_do_not():
    def hash_of(rows: list[dict]) -> str:
        @lg.asset
        def shaped() -> list[dict]:
            return rows

        return _materialized(lg.materialize([shaped]))["shaped"]["schema_hash"]

    same = hash_of([{"id": 1, "name": "a"}])
    assert hash_of([{"name": "b", "id": 2}]) == same
    assert hash_of([{"id": 1, "label": "a"}]) != same


def test_the_steps_own_numbers_are_kept_and_win(store: Store):
    @lg.asset
    def orders(context) -> list[dict]:
        context.add_metadata(source="api", rows=10)  # e.g. rows fetched, before filtering
        return lg.Output([{"id": 1}], metadata={"pages": 3})

    @lg.asset
    def count(orders: list[dict]) -> int:
        return len(orders)  # downstream gets the value, not the Output

    result = lg.materialize([orders, count], store=store)
    assert result.output("count") == 1
    recorded = _materialized(result)["orders"]
    assert (recorded["rows"], recorded["source"], recorded["pages"]) == (10, "api", 3)


def test_single_run_assets_record_each_key_and_the_series_is_read_back(store: Store):
    days = lg.StaticPartitions(["mon", "tue"])

    @lg.asset(partitions=days, single_run=True)
    def visits(context) -> dict[str, list[int]]:
        context.add_metadata(batch="nightly")
        return {"mon": [1, 2, 3], "tue": [1]}

    lg.materialize([visits], store=store, partition=["mon", "tue"])
    series = metadata_series(store, "visits", "rows")
    assert [(p.partition, p.value) for p in series.points] == [("mon", 3.0), ("tue", 1.0)]
    assert series.names == ["rows"]  # "batch" is text, not a number to plot
    only_tue = metadata_series(store, "visits", "rows", partition="tue")
    assert [p.value for p in only_tue.points] == [1.0]


def test_metadata_that_cannot_be_recorded_fails_the_step_saying_why():
    @lg.asset
    def odd(context) -> int:
        context.add_metadata({1: "x"})
        return 1

    result = lg.materialize([odd], raise_on_error=False)
    assert "metadata must map strings" in (result.failures()["odd"] or {})["message"]
    with pytest.raises(TypeError, match="metadata must map names"):
        lg.Output(1, metadata=[("a", 1)])  # type: ignore[arg-type]
