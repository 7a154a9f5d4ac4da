"""Partitioned assets and triggers for the web tests of partitions, backfills and automation:
a daily asset (one key fails), a daily x region product, a tenant asset over a dynamic set, and
pipelines with a schedule, an interval, a sensor and OnUpdate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from web_helpers import record_definitions

import legato as lg
from legato._internal.ids import new_run_id
from legato.definitions.project import Project
from legato.definitions.triggers import SensorResult, sensor
from legato.execution.executors.inprocess import InProcessExecutor
from legato.execution.launcher import launch_run
from legato.graph.backfill import plan_backfill
from legato.graph.build import build_graph
from legato.store.backfills import create_backfill, set_status
from legato.store.engine import Store
from legato.store.partitions import add_dynamic_keys
from legato.testing import VirtualDaemon

DAYS = lg.DailyPartitions(start="2024-01-01", end="2024-03-01")  # 60 keys, fixed
REGIONS = lg.StaticPartitions(["eu", "us", "apac"], name="region")
TENANTS = lg.DynamicPartitions("tenants")
FAILING_DAY = "2024-02-10"
BACKFILL_CONFIG = {"source": "export-v2"}  # free-form: no step of it takes a config model


@lg.asset(partitions=DAYS, group="parts", description="Sales per day.")
def daily_sales(context: lg.StepContext) -> int:
    if context.partition_key == FAILING_DAY:
        raise ValueError("the shop export of that day is corrupt")
    return 1


@lg.asset(partitions=DAYS * REGIONS, group="parts")
def regional_sales(context: lg.StepContext) -> int:
    return 2


@lg.asset(partitions=TENANTS, group="parts")
def tenant_report(context: lg.StepContext) -> int:
    return 3


@sensor(interval=600)
def new_tenants(context) -> SensorResult:  # type: ignore[no-untyped-def]
    # a new cursor each poll (the last listing time), so each skip is a row of tick history
    polls = int(context.cursor or 0) + 1
    return SensorResult(skip_reason="no new tenant", cursor=str(polls))


parts_nightly = lg.Pipeline(
    "parts_nightly",
    select="daily_sales",
    triggers=[lg.Cron("0 2 * * *", timezone="Europe/Berlin", on_gap="skip")],
)
regional_half_hourly = lg.Pipeline(
    "regional_half_hourly", select="regional_sales", triggers=[lg.Every(1800)]
)
tenant_watch = lg.Pipeline("tenant_watch", select="tenant_report", triggers=[new_tenants])
regional_chain = lg.Pipeline(
    "regional_chain", select="regional_sales", triggers=[lg.OnUpdate(interval=600)]
)
STEPS = [daily_sales, regional_sales, tenant_report]
PIPELINES = [parts_nightly, regional_half_hourly, tenant_watch, regional_chain]


def project() -> Project:
    return Project.of(STEPS, PIPELINES)


@dataclass
class Ops:
    """What :func:`seed` put in the store."""

    store: Store
    backfill_id: str  # failed: 2 groups succeeded, 1 failed, 1 never started
    requested_id: str  # requested, no run yet
    runs: list[str]  # the backfill's runs, oldest first


def seed(store: Store, storage: Path) -> Ops:
    """Definitions, materialized partitions, dynamic keys, triggers with ticks (the daemon on a
    virtual clock) and two backfills with real runs."""
    definitions = project()
    record_definitions(store, definitions)
    add_dynamic_keys(store, "tenants", ["acme", "globex", "initech"], added_by="test")
    days = ["2024-02-08", "2024-02-09", FAILING_DAY]
    lg.materialize(
        STEPS, selection="daily_sales", partition=days, store=store, raise_on_error=False
    )
    regional = ["date=2024-02-29,region=eu", "date=2024-02-28,region=us"]
    lg.materialize(STEPS, selection="regional_sales", partition=regional, store=store)
    lg.materialize(STEPS, selection="tenant_report", partition=["acme"], store=store)
    daemon = VirtualDaemon(
        PIPELINES, steps=STEPS, start=datetime(2024, 2, 20, 0, 30, tzinfo=UTC), store=store
    )
    daemon.advance(hours=1)  # the schedule fires at 02:00 in Berlin (01:00 UTC)
    graph = build_graph(definitions)
    keys = ["2024-02-07", "2024-02-08", FAILING_DAY, "2024-02-11"]
    plan = plan_backfill(graph, ["daily_sales"], keys)
    backfill_id = new_run_id()
    create_backfill(
        store,
        backfill_id,
        "daily_sales",
        keys,
        [g.as_dict() for g in plan.groups],
        max_concurrent=1,
        missing_only=False,
        executor="inprocess",
        config=BACKFILL_CONFIG,
    )
    runs = []
    for index, group in enumerate(plan.groups[:3]):
        result = launch_run(
            definitions,
            graph,
            list(group.nodes),
            store=store,
            storage_root=storage,
            executor=InProcessExecutor(),
            partitions=group.partitions,
            idempotency_key=f"backfill:{backfill_id}:{index}:1",
            backfill_id=backfill_id,
            trigger=f"backfill:{backfill_id}",
            run_config=BACKFILL_CONFIG,
        )
        runs.append(result.run_id)
    set_status(store, backfill_id, "failed", allowed_from=("requested",), error="1 run(s) failed")
    requested = new_run_id()
    create_backfill(
        store,
        requested,
        "daily_sales",
        ["2024-01-01"],
        [{"nodes": ["daily_sales"], "partitions": ["2024-01-01"], "after": []}],
        max_concurrent=1,
        missing_only=True,
        executor="inprocess",
    )
    return Ops(store, backfill_id, requested, runs)
