"""Definitions API latency for large projects: p50/p95 of GET /api/v1/definitions, /graph and
/config-schema (through the whole ASGI stack) over a snapshot of 2,000 and 10,000 assets, and
the first answer after a new snapshot was recorded (the snapshot read, decoded and indexed).

    .venv/bin/python bench/web/bench_definitions.py [--sizes 2000 10000] [--repeat 20]

SQLite, a fresh file in a temporary directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "web"))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from _data import store_with_snapshot, synthetic_snapshot
from _timing import measure, report
from web_helpers import local_client

from legato.store.snapshots import save_snapshot
from legato.web.app import create_app

ROUTES = {
    "GET /definitions": ("/api/v1/definitions", {}),
    "GET /graph": ("/api/v1/graph", {}),
    "GET /graph?select=group:team_3+": ("/api/v1/graph", {"select": "group:team_3+"}),
    "GET /config-schema?select=*": ("/api/v1/config-schema", {"select": "*"}),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10_000])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    for size in args.sizes:
        store = store_with_snapshot(f"sqlite:///{tempfile.mkdtemp()}/bench.db", size)
        client = local_client(create_app(store))
        print(f"{size} nodes")
        for label, (url, params) in ROUTES.items():
            report(label, measure(client, url, params, args.repeat), width=36)
        cold = []
        for seed in range(5):
            save_snapshot(store, synthetic_snapshot(size, seed=size + seed))  # new fingerprint
            started = time.perf_counter()
            response = client.get("/api/v1/definitions")
            cold.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.text
            assert len(response.json()["nodes"]) == size
        report("GET /definitions, new snapshot", cold, width=36)
        client.close()
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
