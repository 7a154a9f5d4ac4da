"""The built-in freshness check: the newest value of a timestamp column, or the materialization it
judges, at most ``max_lag`` old when it runs; blocking or not, in the asset's run or alone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import legato as lg
from legato.definitions.keys import StepKey
from legato.execution.context import StepContext
from legato.store.assets import latest_materializations
from legato.store.checks import failed_blocking_checks
from legato.store.engine import Store


def _now() -> datetime:
    """Now, when the test runs (not when the module was collected: that can be many minutes
    earlier in a parallel run)."""
    return datetime.now(UTC)


def _orders(newest: datetime, **options: object) -> list:  # type: ignore[type-arg]
    @lg.asset(checks=[lg.checks.freshness("ordered_at", max_lag="2h", **options)])
    def orders() -> list[dict]:
        return [
            {"id": 1, "ordered_at": newest - timedelta(days=1)},
            {"id": 2, "ordered_at": newest},
            {"id": 3, "ordered_at": None},  # a missing time is left out
        ]

    @lg.asset
    def revenue(orders: list[dict]) -> int:
        return len(orders)

    return [orders, revenue]


def test_a_stale_column_fails_a_blocking_check_and_downstream_is_skipped(store: Store):
    newest = _now() - timedelta(hours=3)
    result = lg.materialize(_orders(newest, blocking=True), store=store, raise_on_error=False)
    check = result.checks["orders:check:freshness_ordered_at"]
    assert (check["outcome"], check["blocking"]) == ("fail", True)
    assert check["metadata"]["newest"] == newest.isoformat()
    assert check["metadata"]["age_seconds"] >= 3 * 3600
    assert check["metadata"]["max_lag_seconds"] == 7200
    assert result.steps["revenue"].status.value == "skipped"
    reasons = {e["step"]: e["data"]["reason"] for e in result.events if e["type"] == "step_skipped"}
    assert reasons["revenue"] == "blocking check orders:check:freshness_ordered_at failed on orders"
    assert failed_blocking_checks(store, "orders", "", result.run_id) == [
        "orders:check:freshness_ordered_at"
    ]


def test_a_stale_column_only_warns_or_records_a_failure_when_the_check_does_not_block():
    warned = lg.materialize(_orders(_now() - timedelta(hours=3), severity="warn"))
    assert warned.checks["orders:check:freshness_ordered_at"]["outcome"] == "warn"
    failed = lg.materialize(_orders(_now() - timedelta(hours=3)))
    assert failed.checks["orders:check:freshness_ordered_at"]["outcome"] == "fail"
    assert warned.output("revenue") == failed.output("revenue") == 3  # downstream still ran


def test_a_recent_column_passes():
    result = lg.materialize(_orders(_now() - timedelta(minutes=10), blocking=True))
    check = result.checks["orders:check:freshness_ordered_at"]
    assert check["outcome"] == "pass" and check["metadata"]["age_seconds"] < 7200
    assert result.output("revenue") == 3


TABLES = {  # each library's timestamps, with and without a time zone; (newest, older)
    "pandas": lambda t, old: pd.DataFrame({"at": pd.to_datetime([old, t], utc=True)}),
    "arrow": lambda t, old: pa.table({"at": pa.array([old, t], pa.timestamp("us", tz="UTC"))}),
    "polars": lambda t, old: pl.DataFrame(
        {"at": [old.replace(tzinfo=None), t.replace(tzinfo=None)]}
    ),
    "iso strings": lambda t, old: [{"at": old.isoformat()}, {"at": t.isoformat()}],
    "naive is UTC": lambda t, old: [{"at": t.replace(tzinfo=None)}],
}


@pytest.mark.parametrize("kind", list(TABLES))
def test_the_newest_time_of_each_kind_of_table_is_what_counts(kind):
    check = lg.checks.freshness("at", max_lag="1h")
    recent, stale = _now() - timedelta(minutes=30), _now() - timedelta(hours=5)
    assert check.fn(TABLES[kind](recent, stale)).passed
    assert not check.fn(TABLES[kind](stale, stale)).passed


def test_a_date_is_its_midnight_and_a_column_without_times_fails_saying_so():
    check = lg.checks.freshness("day", max_lag="2d")
    assert check.fn([{"day": (_now() - timedelta(days=1)).date()}]).passed
    assert not check.fn([{"day": date(2020, 1, 1)}]).passed
    empty = check.fn([{"day": None}])
    assert not empty.passed and empty.metadata["newest"] is None
    with pytest.raises(TypeError, match="column 'day' holds int values; it needs datetimes"):
        check.fn([{"day": 20250301}])
    with pytest.raises(ValueError, match="column 'day' holds 'soon', not an ISO 8601"):
        check.fn([{"day": "soon"}])


def _judging(made: float | None) -> StepContext:
    return StepContext("run", StepKey("orders:check:freshness"), 1, target_materialized_at=made)


def test_without_a_column_the_check_judges_when_the_materialization_was_made():
    check = lg.checks.freshness(max_lag="1h", blocking=True)
    recent = check.fn([], _judging((_now() - timedelta(minutes=59)).timestamp()))
    assert recent.passed
    made = _now() - timedelta(hours=2)
    stale = check.fn([], _judging(made.timestamp()))
    assert not stale.passed
    assert stale.metadata["materialized_at"] == made.isoformat()
    assert not check.fn([], _judging(None)).passed  # nothing known to judge


def test_run_alone_it_is_given_the_time_of_the_latest_materialization(store: Store, tmp_path):
    @lg.asset(checks=[lg.checks.freshness(max_lag="1h", blocking=True)])
    def orders() -> list[dict]:
        return [{"id": 1}]

    made = lg.materialize([orders], store=store, storage=tmp_path)
    in_run = made.checks["orders:check:freshness"]
    [latest] = latest_materializations(store, "orders")
    assert (
        in_run["metadata"]["materialized_at"] == datetime.fromtimestamp(latest.ts, UTC).isoformat()
    )
    alone = lg.materialize([orders], store=store, storage=tmp_path, selection="orders:check:*")
    check = alone.checks["orders:check:freshness"]
    assert (check["outcome"], check["target_run"]) == ("pass", made.run_id)
    assert check["metadata"]["materialized_at"] == in_run["metadata"]["materialized_at"]


def test_a_bad_max_lag_is_refused_naming_the_fix():
    with pytest.raises(lg.DefinitionError, match="freshness\\(updated_at\\): max_lag: 'soon'") as e:
        lg.checks.freshness("updated_at", max_lag="soon")
    assert 'freshness("updated_at", max_lag="2h")' in (e.value.hint or "")
    with pytest.raises(TypeError):
        lg.checks.freshness("updated_at")  # type: ignore[call-arg]
