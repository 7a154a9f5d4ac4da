"""Partition pages on large spaces: p50/p95 of the asset partitions page (counts and a page of
keys), walking its cursor, the status matrix, and a dynamic set's key pages, through the whole
ASGI stack.

    .venv/bin/python bench/web/bench_partitions.py [--touched 100000] [--postgres URL]

The store is a fresh SQLite file, and with ``--postgres`` also a fresh schema of that database
(dropped afterwards): never a schema holding anyone's data.

Spaces: hourly keys since 2014 (~110,000 keys) and daily x 200 tenants since 2024 (~200,000 keys),
each with ``--touched`` keys in the store's per-key status table; a dynamic set of 100,000 files.
Target: p95 <= 300 ms; a response never carries more than 1,000 keys (or 62 x 50 cells).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))  # web_helpers' polling
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _timing import measure, report, walk
from fresh_store import fresh_store_url
from web_helpers import local_client

from legato.definitions.partitions import DailyPartitions, DynamicPartitions, HourlyPartitions
from legato.graph.snapshot import read_snapshot
from legato.store import schema
from legato.store.engine import Store
from legato.store.latest_counts import add_changes, status_changes
from legato.store.partitions import add_dynamic_keys
from legato.store.snapshots import save_snapshot
from legato.web.app import create_app

HOURLY = HourlyPartitions("2014-01-01-00:00")
TENANT_DAYS = DailyPartitions("2024-01-01") * DynamicPartitions("tenants")
TENANTS = [f"tenant{i:03d}" for i in range(200)]


def fill(store: Store, touched: int) -> None:
    nodes = [
        {"key": "hourly", "kind": "asset", "upstream": [], "partitions": HOURLY.describe()},
        {"key": "by_tenant", "kind": "asset", "upstream": [], "partitions": TENANT_DAYS.describe()},
    ]
    save_snapshot(store, read_snapshot({"nodes": nodes, "pipelines": [], "resources": []}))
    add_dynamic_keys(store, "tenants", TENANTS, added_by="bench")
    for start in range(0, 100_000, 10_000):
        add_dynamic_keys(store, "files", [f"file-{i:06d}" for i in range(start, start + 10_000)])
    rng = random.Random(3)
    now = time.time()
    for asset, space in (("hourly", HOURLY), ("by_tenant", TENANT_DAYS)):
        keys = space.keys(dynamic={"tenants": TENANTS})
        chosen = sorted(rng.sample(range(len(keys)), min(touched, len(keys))))
        rows = [
            {
                "asset_key": asset,
                "partition": keys[i],
                "status": rng.choice(["materialized"] * 8 + ["failed", "in_progress"]),
                "run_id": "bench",
                "step_key": f"{asset}[{keys[i]}]",
                "ts": now,
                "materialized_at": now,
                "materialized_run": "bench",
                "metadata": "{}",
            }
            for i in chosen
        ]
        with store.transaction() as conn:
            for start in range(0, len(rows), 5000):
                chunk = rows[start : start + 5000]
                conn.execute(insert(schema.asset_latest), chunk)
                add_changes(conn, status_changes((asset, None, r["status"]) for r in chunk))
    with store.transaction() as conn:
        conn.execute(text("ANALYZE"))  # what autovacuum does after a bulk load on PostgreSQL


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--touched", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--postgres", help="also measure on this PostgreSQL database (a fresh schema, dropped)"
    )
    args = parser.parse_args()
    targets = [("sqlite", None)]
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    worst = 0.0
    for name, database in targets:
        with tempfile.TemporaryDirectory() as tmp, fresh_store_url(database, Path(tmp)) as url:
            worst = max(worst, _measure_store(name, url, args))
    return 0 if worst <= 300 else 1


def _measure_store(name: str, url: str, args: argparse.Namespace) -> float:
    """The worst p95 (ms) of the cases on one store."""
    worst = 0.0
    store = Store(url)
    started = time.perf_counter()
    fill(store, args.touched)
    print(f"{name}: store filled in {time.perf_counter() - started:.1f} s")
    client = local_client(create_app(store))
    client.get("/api/v1/assets/hourly/partitions")  # warm up (snapshot, space rebuild)
    cases = [
        ("hourly: first 100 keys", "/api/v1/assets/hourly/partitions", {}),
        ("hourly: 1000 keys", "/api/v1/assets/hourly/partitions", {"limit": 1000}),
        ("hourly: matrix", "/api/v1/assets/hourly/partitions/matrix", {}),
        ("tenants x days: first 100", "/api/v1/assets/by_tenant/partitions", {}),
        (
            "tenants x days: matrix 62x50",
            "/api/v1/assets/by_tenant/partitions/matrix",
            {"columns": 62, "rows": 50},
        ),
        ("sets", "/api/v1/partitions/sets", {}),
        ("files set: first 200", "/api/v1/partitions/sets/files", {}),
        ("files set: prefix", "/api/v1/partitions/sets/files", {"prefix": "file-0999"}),
    ]
    for label, path, params in cases:
        worst = max(worst, report(label, measure(client, path, params, args.repeat)))
    deep = walk(client, "/api/v1/assets/hourly/partitions", 50, 1000, items="keys")
    worst = max(worst, report("hourly: walk 50 pages of 1000", deep))
    store.dispose()
    print(
        f"{name}: worst p95 {worst:.1f} ms (target <= 300 ms): {'ok' if worst <= 300 else 'MISSED'}"
    )
    return worst


if __name__ == "__main__":
    sys.exit(main())
