"""The daemon records its project's definitions under the project's name and, when it or another
project sharing the store records new ones, reports the contracts that disagree across them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest

import legato as lg
from legato.automation.code import InProcessCode
from legato.automation.daemon import Daemon
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.graph.snapshot import snapshot
from legato.store.engine import Store
from legato.store.snapshots import latest_snapshot, save_snapshot


def _record_sales(store: Store, amount: str) -> lg.StepDef:
    """What ``legato run`` in the sales project records."""

    @lg.asset(contract=lg.TableContract({"id": "int64", "amount": amount}))
    def orders() -> Any:
        return None

    project = Project.of([orders])
    save_snapshot(store, snapshot(project, build_graph(project)), "sales")
    return orders


orders = lg.external_asset("orders", project="sales")


@lg.asset
def revenue(orders: Annotated[Any, lg.Needs({"amount": "float64"})]) -> float:
    return 0.0


@pytest.fixture
def daemon(store: Store, tmp_path: Path) -> Iterator[Daemon]:
    code = InProcessCode(Project.of([orders, revenue]), store)
    found = Daemon(
        store,
        code=code,
        project_dir=tmp_path,
        launch_runs=False,
        watch_files=False,
        snapshot_every=0.0,  # definitions are read on every refresh
        location="marketing",
    )
    try:
        yield found
    finally:
        found.stop()


def _shared(daemon: Daemon) -> list[str]:
    report = daemon.refresh_definitions()
    return [e for e in report.errors if e.startswith("contracts across projects")]


def test_the_daemon_reports_a_contract_another_project_broke_once(store, daemon):
    assert _shared(daemon) == []  # no other project yet
    sales_orders = _record_sales(store, "string")
    (error,) = _shared(daemon)
    assert (
        f"contracts across projects: asset 'revenue' of project 'marketing' ({revenue.source}) "
        f"reads 'orders' from asset 'orders' of project 'sales' ({sales_orders.source}): column "
        "'amount' is string in the contract, float64 is needed; declare 'amount': 'float64' in "
        "orders's contract"
    ) in error
    assert _shared(daemon) == []  # nothing new was recorded: said once
    _record_sales(store, "float64")
    assert _shared(daemon) == []
    marketing = latest_snapshot(store, "marketing")
    assert marketing is not None and set(marketing.node_index) == {"orders", "revenue"}
    assert latest_snapshot(store) is None  # nothing under the unnamed project's location
