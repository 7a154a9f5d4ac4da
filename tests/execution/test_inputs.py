"""A run does not read a stored value that failed a blocking check: a step that needs one fails
before it runs, naming the input, the run that made it, the check and the fix; an optional key
of a roll-up is left out instead; a run tagged legato/allow_untrusted=true reads it anyway."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event

import legato as lg
from legato.definitions.checks import ALLOW_UNTRUSTED_TAG, UNTRUSTED_INPUT
from legato.definitions.partitions import DailyPartitions, MonthlyPartitions, RollUp
from legato.definitions.project import Project
from legato.execution.api import launch_run, make_executor
from legato.graph.build import build_graph
from legato.store.engine import Store

DAYS = DailyPartitions(start="2026-01-01", end="2026-12-31")
MONTHS = MonthlyPartitions(start="2026-01-01", end="2026-12-31")
GOOD = [{"customer_id": 1}]
BAD = [{"customer_id": 1}, {"customer_id": None}]


def _steps(rows: dict[str, list[dict]], read: list[str]) -> list[lg.StepDef]:
    @lg.asset(partitions=DAYS, checks=[lg.checks.not_null("customer_id", blocking=True)])
    def orders(context) -> list[dict]:  # type: ignore[no-untyped-def]
        return rows[context.partition_key]

    @lg.asset(partitions=DAYS)
    def revenue(orders: list[dict]) -> int:
        read.append("revenue")
        return len(orders)

    @lg.asset(partitions=DAYS)
    def report(revenue: int) -> str:
        return f"{revenue} orders"

    @lg.asset(partitions=MONTHS, ins={"orders": lg.Dep("orders", mapping=RollUp(min_count=1))})
    def monthly(orders: dict[str, list[dict]]) -> list[str]:
        return sorted(orders)

    return [orders, revenue, report, monthly]


def _run(
    steps: list[lg.StepDef], store: Store, storage: Path, selection: str, *keys: str
) -> lg.RunResult:
    return lg.materialize(
        steps,
        selection=selection,
        partition=list(keys),
        store=store,
        storage=storage,
        raise_on_error=False,
    )


def test_a_step_that_reads_an_untrusted_value_fails_before_it_runs(
    store: Store, tmp_path: Path
) -> None:
    rows, read = {"2026-01-01": BAD}, []
    steps = _steps(rows, read)
    bad = _run(steps, store, tmp_path, "orders", "2026-01-01")
    result = _run(steps, store, tmp_path, "revenue report", "2026-01-01")
    status = {k: s.status.value for k, s in result.steps.items()}
    assert status == {"revenue[2026-01-01]": "failed", "report[2026-01-01]": "skipped"}
    assert read == [] and not result.success
    error = result.steps["revenue[2026-01-01]"].error or {}
    assert error["type"] == UNTRUSTED_INPUT
    assert error["message"] == (
        f"step 'revenue[2026-01-01]' did not run: it reads orders [2026-01-01] from run "
        f"{bad.run_id} failed blocking check not_null_customer_id, so its input is not trusted. "
        "Materialize it again (legato run orders --partition 2026-01-01) or, if the check was "
        "wrong, run the checks again (legato checks run orders --partition 2026-01-01); to read "
        "it anyway, tag the run legato/allow_untrusted=true"
    )
    rows["2026-01-01"] = GOOD
    _run(steps, store, tmp_path, "orders", "2026-01-01")  # materialized again, and it passes
    again = _run(steps, store, tmp_path, "revenue report", "2026-01-01")
    assert again.success and again.output("report[2026-01-01]") == "1 orders"


def test_partitions_are_judged_one_by_one_and_checks_still_read_their_asset(
    store: Store, tmp_path: Path
) -> None:
    steps = _steps({"2026-01-01": BAD, "2026-01-02": GOOD}, [])
    _run(steps, store, tmp_path, "orders", "2026-01-01", "2026-01-02")
    result = _run(steps, store, tmp_path, "revenue", "2026-01-01", "2026-01-02")
    status = {k: s.status.value for k, s in result.steps.items()}
    assert status == {"revenue[2026-01-01]": "failed", "revenue[2026-01-02]": "succeeded"}
    checked = _run(steps, store, tmp_path, "orders:check:*", "2026-01-01")  # judges it again
    assert checked.steps["orders:check:not_null_customer_id[2026-01-01]"].status.value == "failed"


def test_an_optional_key_that_is_not_trusted_is_left_out(store: Store, tmp_path: Path) -> None:
    steps = _steps({"2026-01-01": BAD, "2026-01-02": GOOD}, [])
    _run(steps, store, tmp_path, "orders", "2026-01-01", "2026-01-02")
    result = _run(steps, store, tmp_path, "monthly", "2026-01")
    assert result.output("monthly[2026-01]") == ["2026-01-02"]  # min_count=1: read what is good


def test_a_run_tagged_allow_untrusted_reads_it(store: Store, tmp_path: Path) -> None:
    read: list[str] = []
    steps = _steps({"2026-01-01": BAD}, read)
    _run(steps, store, tmp_path, "orders", "2026-01-01")
    project = Project.of(steps)
    graph = build_graph(project)
    results = [
        launch_run(
            project,
            graph,
            "revenue",
            store=store,
            storage_root=tmp_path,
            executor=make_executor("inprocess", store=store),
            partitions=["2026-01-01"],
            tags=tags,
        )
        for tags in ({}, {ALLOW_UNTRUSTED_TAG: "true"})
    ]
    assert [r.success for r in results] == [False, True] and read == ["revenue"]
    assert results[1].output("revenue[2026-01-01]") == 2


def test_the_trust_of_every_stored_input_is_one_query(store: Store, tmp_path: Path) -> None:
    keys = [f"2026-01-{d:02d}" for d in range(1, 8)]
    steps = _steps(dict.fromkeys(keys, GOOD), [])
    _run(steps, store, tmp_path, "orders", *keys)
    asked: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # type: ignore[no-untyped-def]
        if "check_results" in statement:
            asked.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        result = _run(steps, store, tmp_path, "revenue monthly", *keys, "2026-01")
    finally:
        event.remove(store.engine, "before_cursor_execute", count)
    assert result.success and len(result.steps) == 8
    assert len(asked) == 1  # 7 steps read orders one day each, one reads 7 days
