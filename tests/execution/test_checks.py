"""Checks run as steps right after their asset's materialization, in the same run; a failing
blocking check skips the asset's downstream steps and leaves the materialization untrusted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import legato as lg
from legato.definitions.project import Project
from legato.execution.executors.inprocess import InProcessExecutor
from legato.execution.launcher import execute_run
from legato.graph.build import build_graph
from legato.graph.plan import plan_run
from legato.graph.select import select
from legato.store.checks import failed_blocking_checks, latest_check_results
from legato.store.engine import Store
from legato.testing import VirtualDaemon

ROWS = {"good": [{"id": 1}, {"id": 2}], "bad": [{"id": 1}, {"id": None}]}


def _project(rows: list[dict], *, blocking: bool = True):  # type: ignore[no-untyped-def]
    @lg.asset(checks=[lg.checks.not_null("id", blocking=blocking)])
    def orders() -> list[dict]:
        return rows

    @lg.check(asset="orders", severity="warn")
    def at_least_three(orders: list[dict]) -> bool:
        return len(orders) >= 3

    @lg.asset
    def revenue(orders: list[dict]) -> int:
        return len(orders)

    @lg.task
    def report(revenue: int) -> str:
        return f"{revenue} orders"

    return [orders, at_least_three, revenue, report]


def test_a_failing_blocking_check_skips_downstream_and_the_run_fails(store: Store):
    result = lg.materialize(_project(ROWS["bad"]), store=store, raise_on_error=False)
    status = {k: s.status.value for k, s in result.steps.items()}
    assert status == {
        "orders": "succeeded",  # the value was written: it is the latest materialization
        "orders:check:not_null_id": "failed",
        "orders:check:at_least_three": "succeeded",  # other checks of orders still run
        "revenue": "skipped",
        "report": "skipped",
    }
    assert not result.success
    reasons = {e["step"]: e["data"]["reason"] for e in result.events if e["type"] == "step_skipped"}
    assert reasons["revenue"] == "blocking check orders:check:not_null_id failed on orders"
    failed = result.checks["orders:check:not_null_id"]
    assert (failed["outcome"], failed["blocking"], failed["metadata"]) == (
        "fail",
        True,
        {"nulls": 1, "rows": 2},
    )
    assert result.checks["orders:check:at_least_three"]["outcome"] == "warn"
    assert failed_blocking_checks(store, "orders", "", result.run_id) == [
        "orders:check:not_null_id"
    ]
    error = result.steps["orders:check:not_null_id"].error or {}
    assert error["type"] == "legato.CheckFailed" and "nulls=1" in error["message"]


def test_a_failing_check_that_does_not_block_only_warns(store: Store):
    result = lg.materialize(_project(ROWS["bad"], blocking=False), store=store)
    assert result.success and result.output("report") == "2 orders"
    assert result.checks["orders:check:not_null_id"]["outcome"] == "fail"
    assert failed_blocking_checks(store, "orders", "", result.run_id) == []


def test_checks_run_alone_against_the_latest_materialization_and_restore_trust(
    store: Store, tmp_path
):
    bad = _project(ROWS["bad"])
    first = lg.materialize(bad, store=store, storage=tmp_path, raise_on_error=False)
    assert failed_blocking_checks(store, "orders", "", first.run_id)
    # The checks alone (as `legato checks run orders` does): nothing is materialized again.
    again = lg.materialize(
        bad, store=store, storage=tmp_path, selection="orders:check:*", raise_on_error=False
    )
    assert set(again.steps) == {"orders:check:not_null_id", "orders:check:at_least_three"}
    assert again.checks["orders:check:not_null_id"]["target_run"] == first.run_id
    fixed = lg.materialize(_project(ROWS["good"]), store=store, storage=tmp_path)
    assert failed_blocking_checks(store, "orders", "", fixed.run_id) == []
    latest = {r.check_key: r for r in latest_check_results(store, "orders")}
    assert latest["orders:check:not_null_id"].outcome == "pass"
    assert latest["orders:check:not_null_id"].target_run == fixed.run_id


def test_a_check_that_raises_fails_visibly_and_blocks_like_a_failed_one():
    @lg.asset
    def items() -> list[int]:
        return [1]

    @lg.check(asset="items", blocking=True)
    def broken(items: list[int]) -> lg.CheckResult:
        raise RuntimeError("the check itself is broken")

    @lg.asset
    def total(items: list[int]) -> int:
        return sum(items)

    result = lg.materialize([items, broken, total], raise_on_error=False)
    outcome = result.checks["items:check:broken"]
    assert outcome["outcome"] == "fail" and "itself is broken" in outcome["metadata"]["error"]
    assert result.steps["items:check:broken"].attempt == 1  # a failed check is not retried
    assert result.steps["total"].status.value == "skipped"


def test_partitioned_checks_run_per_key_and_downstream_waits_only_for_its_own_keys():
    days = lg.StaticPartitions(["mon", "tue"])

    @lg.asset(partitions=days, checks=[lg.checks.row_count(min=2, blocking=True)])
    def visits(context) -> list[int]:
        return [1, 2] if context.partition_key == "mon" else [1]

    @lg.asset(partitions=days)
    def summary(visits: list[int]) -> int:
        return len(visits)

    result = lg.materialize([visits, summary], partition=["mon", "tue"], raise_on_error=False)
    status = {k: s.status.value for k, s in result.steps.items()}
    assert status["visits:check:row_count[mon]"] == "succeeded"
    assert status["visits:check:row_count[tue]"] == "failed"
    assert (status["summary[mon]"], status["summary[tue]"]) == ("succeeded", "skipped")


def test_the_plan_puts_checks_right_after_their_asset_and_gates_its_readers():
    graph = build_graph(Project.of(_project(ROWS["good"])))
    assert graph.order[:3] == ("orders", "orders:check:not_null_id", "orders:check:at_least_three")
    plan = {str(p.key): p for p in plan_run(graph, ["revenue", "orders"]).steps}
    assert set(map(str, plan["revenue"].waits_for)) == {"orders", "orders:check:not_null_id"}
    assert (
        plan["orders:check:at_least_three"].waits_for == plan["orders:check:not_null_id"].waits_for
    )
    assert "orders:check:not_null_id" not in {
        str(p.key) for p in plan_run(graph, ["revenue"]).steps
    }


def test_checks_on_what_is_no_asset_or_reads_more_are_definition_errors():
    @lg.task
    def job() -> int:
        return 1

    @lg.asset
    def table() -> list[int]:
        return []

    on_task = lg.check(asset="job", name="on_task")(lambda job: True)

    @lg.check(asset="table")
    def joined(table: list[int], job: int) -> bool:
        return True

    nowhere = lg.check(asset="tabel", name="nowhere")(lambda tabel: True)
    with pytest.raises(lg.DefinitionError, match="checks 'job', which is a task"):
        build_graph(Project.of([job, on_task]))
    with pytest.raises(lg.DefinitionError, match="reads 'job' besides the asset it checks"):
        build_graph(Project.of([job, table, joined]))
    with pytest.raises(lg.MissingUpstreamError, match="did you mean 'table'"):
        build_graph(Project.of([table, nowhere]))


def test_a_pipeline_of_checks_is_scheduled_like_any_selection_and_judges_the_latest_value(
    store: Store, tmp_path
):
    steps = _project(ROWS["good"])
    made = lg.materialize(steps, store=store, storage=tmp_path, selection="orders")
    hourly = lg.Pipeline("hourly_checks", select="orders:check:*", triggers=[lg.Cron("0 * * * *")])
    daemon = VirtualDaemon(
        [hourly], steps=steps, start=datetime(2025, 1, 1, tzinfo=UTC), store=store
    )
    runs = daemon.advance(minutes=61)
    assert [r.selection for r in runs] == ["orders:check:*"]
    graph = build_graph(Project.of(steps))
    planned = {str(p.key) for p in plan_run(graph, select(graph, runs[0].selection)).steps}
    assert planned == {"orders:check:not_null_id", "orders:check:at_least_three"}
    # executed as the daemon's run worker would: the checks judge orders as stored by `made`
    done = execute_run(
        Project.of(steps, [hourly]), graph, store, runs[0].run_id,
        storage_root=tmp_path, executor=InProcessExecutor(),
    )  # fmt: skip
    assert done.success and "orders" not in done.steps  # orders was not computed again
    judged = {r.check_key: (r.run_id, r.target_run, r.outcome) for r in latest_check_results(store)}
    assert judged == {
        "orders:check:not_null_id": (runs[0].run_id, made.run_id, "pass"),
        "orders:check:at_least_three": (runs[0].run_id, made.run_id, "warn"),
    }
