"""Partition benchmarks: status queries over 100,000 keys, a 1,000,000-key 2-D space, backfill
planning of 365 days x 200 tenants, and the cron engine under time windows and schedules.

    python bench/partitions.py [--postgres URL] [--json out.json] [--only space,timeline]

Prints medians and p95 of repeated measurements, wall and CPU of this process; no assertions
(targets are in docs/benchmarks.md). ``--postgres ''`` skips PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fresh_store import fresh_store_url

import legato as lg
from legato.definitions.project import Project
from legato.graph.backfill import plan_backfill
from legato.graph.build import build_graph
from legato.store import schema
from legato.store.engine import Store
from legato.store.latest_counts import add_changes, status_changes
from legato.store.partitions import partition_statuses, status_counts


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    samples.sort()
    return {
        "median_ms": statistics.median(samples) * 1000,
        "p95_ms": samples[max(0, int(len(samples) * 0.95) - 1)] * 1000,
        "cpu_median_ms": statistics.median(cpu) * 1000,
    }


def fill_statuses(store: Store, asset: str, keys: list[str]) -> None:
    now = time.time()
    rows = [
        {
            "asset_key": asset,
            "partition": k,
            "status": "failed" if i % 97 == 0 else "materialized",
            "run_id": "r",
            "step_key": f"{asset}[{k}]",
            "ts": now,
            "materialized_at": None if i % 97 == 0 else now,
            "materialized_run": "r",
            "metadata": "{}",
        }
        for i, k in enumerate(keys)
    ]
    with store.transaction() as conn:
        for start in range(0, len(rows), 10_000):
            chunk = rows[start : start + 10_000]
            conn.execute(schema.asset_latest.insert(), chunk)
            add_changes(conn, status_changes((asset, None, r["status"]) for r in chunk))


def bench_status(url: str, label: str) -> dict[str, Any]:
    store = Store(url)
    hourly = lg.HourlyPartitions(start="2013-01-01-00:00")
    keys = list(hourly.keys()[:100_000])
    fill_statuses(store, "events", keys)
    return {
        "backend": label,
        "keys": len(keys),
        "status_counts": timed(lambda: status_counts(store, "events"), 30),
        "all_statuses": timed(lambda: partition_statuses(store, "events"), 5),
    }


def bench_space() -> dict[str, Any]:
    tenants = lg.StaticPartitions([f"t{i:04d}" for i in range(1000)], name="tenant")
    days = lg.DailyPartitions(start="2020-01-01", end="2022-09-27")  # 1,000 days
    space = tenants * days
    key = "tenant=t0500,date=2021-06-01"
    return {
        "keys": space.count(),
        "count": timed(space.count, 20),
        "contains": timed(lambda: space.contains(key), 200),
        "index_of": timed(lambda: space.index_of(key), 200),
        "range_one_tenant_year": timed(
            lambda: space.keys_between(
                "tenant=t0500,date=2021-01-01", "tenant=t0500,date=2021-12-31"
            ),
            20,
        ),
    }


def bench_backfill_plan() -> dict[str, Any]:
    tenants = lg.DynamicPartitions("tenants")
    days = lg.DailyPartitions(start="2024-01-01", end="2024-12-31")

    @lg.asset(partitions=tenants * days)
    def usage() -> int:
        return 1

    @lg.asset(partitions=days, ins={"usage": lg.Dep("usage", mapping=lg.Dimension(on="date"))})
    def daily(usage: dict[str, int]) -> int:
        return 1

    graph = build_graph(Project.of([usage, daily]))
    names = [f"tenant{i:03d}" for i in range(200)]
    dynamic = {"tenants": names}
    space = usage.partitions
    assert space is not None
    keys = list(space.keys(dynamic=dynamic))
    start, start_cpu = time.perf_counter(), time.process_time()
    plan = plan_backfill(graph, ["usage", "daily"], keys, dynamic=dynamic)
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return {
        "keys": len(keys),
        "runs": len(plan.groups),
        "steps": plan.steps,
        "plan_seconds": seconds,
        "plan_cpu_seconds": cpu,
    }


def bench_timeline() -> dict[str, Any]:
    """The cron engine: time windows across DST in Berlin, and schedule fire lists."""
    now = datetime(2025, 12, 1, tzinfo=UTC)
    hourly = lg.HourlyPartitions(start="2000-01-01-00:00", timezone="Europe/Berlin")
    keys = hourly.keys(now)  # 227,000 keys over 26 years of DST changes
    moments = [datetime(2001, 1, 1, tzinfo=UTC) + timedelta(hours=7919 * i) for i in range(200)]
    weekdays = lg.TimeWindowPartitions("0 9 * * 1-5", "2000-01-03", timezone="America/New_York")
    twice_a_month = lg.TimeWindowPartitions("30 2 1,15 * *", "2000-01-01", timezone="Europe/Berlin")
    quarter = lg.Cron("*/15 * * * *", "America/New_York")
    nightly = lg.Cron("30 2 * * *", "Europe/Berlin")
    year = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    return {
        "hourly_keys": len(keys),
        "construct_hourly": timed(
            lambda: lg.HourlyPartitions(start="2000-01-01-00:00", timezone="Europe/Berlin"), 50
        ),
        "count_hourly_26y": timed(lambda: hourly.count(now), 50),
        "index_hourly": timed(lambda: [keys[i] for i in range(0, len(keys), 997)], 20),
        "key_for_200": timed(lambda: [hourly.key_for(m) for m in moments], 20),
        "list_one_year_hourly": timed(
            lambda: list(hourly.keys_between("2024-01-01-00:00", "2024-12-31-23:00", now)), 5
        ),
        "count_weekdays_and_twice_monthly": timed(
            lambda: (weekdays.count(now), twice_a_month.count(now)), 50
        ),
        "cron_quarter_hour_one_year": timed(lambda: list(quarter.fires_between(*year)), 5),
        "cron_next_fire_365": timed(
            lambda: [nightly.next_fire(year[0] + timedelta(days=d)) for d in range(365)], 5
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--postgres",
        default="postgresql://postgres@127.0.0.1:5432/test",
        help="measure status queries in a fresh schema of this database too (dropped after); "
        "'' for SQLite only",
    )
    parser.add_argument("--json", default=None)
    parser.add_argument("--only", default="status,space,backfill,timeline")
    args = parser.parse_args()
    only = set(args.only.split(","))
    results: dict[str, Any] = {}
    if "status" in only:  # a temporary SQLite file, and a fresh schema of --postgres
        stores = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
        for label, database in stores:
            with tempfile.TemporaryDirectory() as tmp, fresh_store_url(database, Path(tmp)) as url:
                results[f"status_{label}"] = bench_status(url, label)
    if "space" in only:
        results["space_1m"] = bench_space()
    if "backfill" in only:
        results["backfill_plan_365x200"] = bench_backfill_plan()
    if "timeline" in only:
        results["timeline"] = bench_timeline()
    print(json.dumps(results, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
