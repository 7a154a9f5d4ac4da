"""OnUpdate follows only trusted materializations: one that failed a blocking check starts
nothing and the tick says why; one whose blocking checks are still running is waited for; the
next materialization that passes starts the downstream once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import legato as lg
from legato.definitions.project import Project
from legato.events.types import Event, EventType
from legato.execution.api import launch_run, make_executor
from legato.execution.io.memory import MemoryIOManager
from legato.graph.build import build_graph
from legato.store.automation import list_ticks
from legato.store.engine import Store
from legato.testing import VirtualDaemon

DAYS = lg.DailyPartitions(start="2026-01-01")
START = datetime(2026, 2, 1, tzinfo=UTC)
GOOD = [{"customer_id": 1}]
BAD = [{"customer_id": 1}, {"customer_id": None}]


def _steps(rows: dict[str, list[dict]]) -> list[lg.StepDef]:
    @lg.asset(partitions=DAYS, checks=[lg.checks.not_null("customer_id", blocking=True)])
    def orders(context) -> list[dict]:  # type: ignore[no-untyped-def]
        return rows[context.partition_key]

    @lg.asset(partitions=DAYS, triggers=[lg.OnUpdate()])
    def revenue(orders: list[dict]) -> int:
        return len(orders)

    return [orders, revenue]


def _orders(steps: list[lg.StepDef], store: Store, *keys: str) -> lg.RunResult:
    return lg.materialize(
        steps, selection="orders", partition=list(keys), store=store, raise_on_error=False
    )


def _requested(daemon: VirtualDaemon) -> list[str]:
    return sorted(r.partition for r in daemon.advance(seconds=3) if r.selection == "revenue")


def _reasons(store: Store, status: str) -> list[str]:
    return [t.reason or "" for t in list_ticks(store, limit=100) if t.status == status]


def test_an_untrusted_materialization_starts_nothing_until_one_passes(store: Store) -> None:
    rows = {"2026-01-01": BAD}
    steps = _steps(rows)
    daemon = VirtualDaemon([], steps=steps, start=START, store=store)
    assert _requested(daemon) == []  # the trigger's first look
    bad = _orders(steps, store, "2026-01-01")
    assert _requested(daemon) == []
    assert (
        f"orders [2026-01-01] from run {bad.run_id} failed blocking check "
        "not_null_customer_id: not trusted"
    ) in _reasons(store, "skipped")
    assert _requested(daemon) == []  # still nothing on later looks
    rows["2026-01-01"] = GOOD
    _orders(steps, store, "2026-01-01")
    assert _requested(daemon) == ["2026-01-01"]
    assert _requested(daemon) == []  # requested once


def test_partitions_are_judged_one_by_one(store: Store) -> None:
    rows = {"2026-01-01": BAD, "2026-01-02": GOOD}
    steps = _steps(rows)
    daemon = VirtualDaemon([], steps=steps, start=START, store=store)
    _requested(daemon)
    run = _orders(steps, store, "2026-01-01", "2026-01-02")
    assert _requested(daemon) == ["2026-01-02"]
    assert _reasons(store, "requested") == [
        f"orders [2026-01-01] from run {run.run_id} failed blocking check "
        "not_null_customer_id: not trusted"
    ]


def _run_orders(steps: list[lg.StepDef], store: Store, key: str, on_events: object) -> lg.RunResult:
    """Materialize orders[key], calling ``on_events`` after each batch of events is recorded."""
    project = Project.of(steps)
    memory = MemoryIOManager()
    return launch_run(
        project,
        build_graph(project),
        "orders",
        store=store,
        storage_root=None,
        executor=make_executor("inprocess", memory_io=memory, store=store),
        partitions=[key],
        memory_io=memory,
        on_events=on_events,  # type: ignore[arg-type]
    )


def test_a_materialization_whose_checks_are_running_is_waited_for(store: Store) -> None:
    rows = {"2026-01-01": GOOD}
    steps = _steps(rows)
    daemon = VirtualDaemon([], steps=steps, start=START, store=store)
    _requested(daemon)
    during: list[list[str]] = []

    def look(events: Sequence[Event]) -> None:  # between the materialization and its checks
        if any(e.type is EventType.MATERIALIZED for e in events):
            during.append(_requested(daemon))

    run = _run_orders(steps, store, "2026-01-01", look)
    assert run.success and during == [[]]
    assert (
        f"waiting for the blocking checks of orders [2026-01-01] from run {run.run_id} "
        "before looking further"
    ) in _reasons(store, "skipped")
    assert _requested(daemon) == ["2026-01-01"]  # its checks passed: the cursor moves on
    assert _requested(daemon) == []


def test_a_materialization_that_fails_its_checks_after_the_wait_starts_nothing(
    store: Store,
) -> None:
    rows = {"2026-01-01": BAD}
    steps = _steps(rows)
    daemon = VirtualDaemon([], steps=steps, start=START, store=store)
    _requested(daemon)
    during: list[list[str]] = []

    def look(events: Sequence[Event]) -> None:
        if any(e.type is EventType.MATERIALIZED for e in events):
            during.append(_requested(daemon))

    run = _run_orders(steps, store, "2026-01-01", look)
    assert not run.success and during == [[]]
    assert _requested(daemon) == []
    assert any(run.run_id in r and "not trusted" in r for r in _reasons(store, "skipped"))


def test_an_untrusted_upstream_holds_back_a_target_that_reads_two(store: Store) -> None:
    rows = {"2026-01-01": BAD}

    @lg.asset(partitions=DAYS, checks=[lg.checks.not_null("customer_id", blocking=True)])
    def orders(context) -> list[dict]:  # type: ignore[no-untyped-def]
        return rows[context.partition_key]

    @lg.asset(partitions=DAYS)
    def refunds() -> int:
        return 0

    @lg.asset(partitions=DAYS, triggers=[lg.OnUpdate()])
    def revenue(orders: list[dict], refunds: int) -> int:
        return len(orders) - refunds

    steps = [orders, refunds, revenue]
    daemon = VirtualDaemon([], steps=steps, start=START, store=store)
    _requested(daemon)
    bad = _orders(steps, store, "2026-01-01")
    _requested(daemon)
    lg.materialize(steps, selection="refunds", partition="2026-01-01", store=store)
    assert _requested(daemon) == []  # refunds is new, but orders is not trusted
    untrusted = (
        f"orders [2026-01-01] from run {bad.run_id} failed blocking check "
        "not_null_customer_id: not trusted"
    )
    assert _reasons(store, "skipped").count(untrusted) == 2  # on orders' look, on refunds'
    rows["2026-01-01"] = GOOD
    _orders(steps, store, "2026-01-01")
    assert _requested(daemon) == ["2026-01-01"]
