"""Synthetic stores for the web benchmarks: many runs, or a snapshot with many nodes."""

from __future__ import annotations

import random
import time

from sqlalchemy import insert

from legato.graph.snapshot import DefinitionsSnapshot, read_snapshot
from legato.store import schema
from legato.store.engine import Store
from legato.store.snapshots import save_snapshot

STATUSES = ["succeeded"] * 8 + ["failed", "cancelled"]


def fill_runs(store: Store, count: int, steps_per_run: int = 3, seed: int = 1) -> None:
    """``count`` finished runs over 30 days, 20 pipelines, 200 assets, 50 partitions."""
    rng = random.Random(seed)
    start = time.time() - 30 * 86400
    batch_runs, batch_steps = [], []
    with store.transaction() as conn:
        for i in range(count):
            created = start + i * (30 * 86400 / count)
            run_id = f"{int(created * 1000):012x}{i:08x}"
            pipeline = f"pipeline_{rng.randrange(20)}"
            batch_runs.append(
                {
                    "run_id": run_id,
                    "pipeline": pipeline,
                    "selection": f"group:{pipeline}",
                    "partition": f"2026-01-{rng.randrange(1, 51):02d}",
                    "status": rng.choice(STATUSES),
                    "created_at": created,
                    "started_at": created + 1,
                    "ended_at": created + 5,
                    "trigger": "schedule:nightly",
                }
            )
            for s in range(steps_per_run):
                node = f"asset_{rng.randrange(200)}"
                batch_steps.append(
                    {
                        "run_id": run_id,
                        "step_key": f"{node}#{s}",
                        "node": node,
                        "kind": "asset",
                        "status": "succeeded",
                        "attempt": 1,
                        "started_at": created + 1,
                        "ended_at": created + 2,
                    }
                )
            if len(batch_runs) >= 5000:
                conn.execute(insert(schema.runs), batch_runs)
                conn.execute(insert(schema.steps), batch_steps)
                batch_runs, batch_steps = [], []
        if batch_runs:
            conn.execute(insert(schema.runs), batch_runs)
            conn.execute(insert(schema.steps), batch_steps)


def synthetic_snapshot(count: int, seed: int = 2) -> DefinitionsSnapshot:
    """A snapshot of ``count`` assets in ~count/50 groups, each with 0-3 upstreams nearby."""
    rng = random.Random(seed)
    nodes = []
    for i in range(count):
        group = f"team_{i // 50}"
        upstream = (
            sorted(
                {
                    f"asset_{rng.randrange(max(0, i - 120), i)}"
                    for _ in range(rng.choice((0, 1, 1, 2, 3)))
                }
            )
            if i
            else []
        )
        nodes.append(
            {
                "key": f"asset_{i}",
                "kind": "task" if i % 17 == 0 else "asset",
                "group": group,
                "tags": {},
                "description": None,
                "owners": [],
                "source": f"pipelines/{group}.py:{i % 400}",
                "upstream": upstream,
                "partitions": None,
            }
        )
    return read_snapshot({"nodes": nodes, "pipelines": [], "resources": []})


def store_with_snapshot(url: str, count: int) -> Store:
    store = Store(url)
    save_snapshot(store, synthetic_snapshot(count))
    return store
