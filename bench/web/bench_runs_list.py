"""Runs list latency with 100,000 runs in the store: p50/p95 of GET /api/v1/runs (through the
whole ASGI stack: auth, validation, query, serialization) for common filters and deep pages.

    .venv/bin/python bench/web/bench_runs_list.py [--runs 100000] [--postgres URL]

Target (RELIABILITY L-08): p95 <= 300 ms.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "web"))

from _data import fill_runs
from _timing import measure, report, walk
from web_helpers import local_client

from legato.store.engine import Store
from legato.web.app import create_app

QUERIES = {
    "first page": {},
    "status=failed": {"status": "failed"},
    "pipeline": {"pipeline": "pipeline_7"},
    "asset": {"asset": "asset_42"},
    "partition": {"partition": "2026-01-17"},
    "last 24 h": {"created_after": time.time() - 86400},
    "status+pipeline": {"status": "cancelled", "pipeline": "pipeline_3"},
    # worst cases: nothing matches, so the whole table is read
    "no such partition": {"partition": "1999-01-01"},
    "no such asset": {"asset": "asset_9999"},
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument(
        "--postgres", help="also measure on this PostgreSQL URL (an empty database)"
    )
    args = parser.parse_args()
    targets = [("sqlite", f"sqlite:///{tempfile.mkdtemp()}/bench.db")]
    if args.postgres:
        targets.append(("postgresql", args.postgres))
    worst = 0.0
    for name, url in targets:
        store = Store(url)
        started = time.perf_counter()
        fill_runs(store, args.runs)
        print(f"{name}: {args.runs} runs written in {time.perf_counter() - started:.1f} s")
        client = local_client(create_app(store))
        client.get("/api/v1/runs")  # warm up
        for label, params in QUERIES.items():
            times = measure(client, "/api/v1/runs", {**params, "limit": 50}, args.repeat)
            worst = max(worst, report(label, times, 18))
        worst = max(worst, report("200 pages deep", walk(client, "/api/v1/runs", 200, 50), 18))
        store.dispose()
    print(f"worst p95: {worst:.1f} ms (target <= 300 ms): {'ok' if worst <= 300 else 'MISSED'}")
    return 0 if worst <= 300 else 1


if __name__ == "__main__":
    sys.exit(main())
