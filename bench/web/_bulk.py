"""A store with a million runs, written fast: COPY on PostgreSQL, one executemany per table on
SQLite. Rows are what the store itself writes for finished runs (with their run facets when this
Legato keeps them), over 30 days, 20 pipelines, 200 assets, 50 partitions and 10 teams (a tag)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert

from legato.store import schema
from legato.store.engine import Store

try:  # older Legatos have no run facets: the runs and steps are then all there is to write
    from legato.store import run_facets
except ImportError:  # pragma: no cover - only when measuring an older source tree
    run_facets = None  # type: ignore[assignment]

STATUSES = ["succeeded"] * 8 + ["failed", "cancelled"]
RUNNING = 3  # the newest runs are still running, so "queued or running" finds a few
_RUN_COLUMNS = [
    *("run_id", "pipeline", "selection", "partition", "status", "created_at", "started_at"),
    *("ended_at", "executor", "tags", "config", "priority", "trigger", "from_failure"),
]
_STEP_COLUMNS = [
    *("run_id", "step_key", "node", "partition", "map_index", "kind", "status", "attempt")
]
_FACET_COLUMNS = ("kind", "value", "created_at", "run_id")


def _rows(count: int, steps_per_run: int, seed: int) -> Iterator[tuple[Any, list[Any], list[Any]]]:
    rng = random.Random(seed)
    start = time.time() - 30 * 86400
    for i in range(count):
        created = start + i * (30 * 86400 / count)
        run_id = f"{int(created * 1000):012x}{i:08x}"
        pipeline = f"pipeline_{rng.randrange(20)}"
        partition = f"2026-01-{rng.randrange(1, 51):02d}"
        status = "running" if i >= count - RUNNING else rng.choice(STATUSES)
        tags = {"team": f"team_{rng.randrange(10)}"}
        run = (
            run_id,
            pipeline,
            f"group:{pipeline}",
            partition,
            status,
            created,
            created + 1,
            None if status == "running" else created + 5,
            "",
            json.dumps(tags),
            "{}",
            0,
            "schedule:nightly",
            0,
        )
        nodes = sorted({f"asset_{rng.randrange(200)}" for _ in range(steps_per_run)})
        steps = [(run_id, node, node, "", -1, "asset", "succeeded", 1) for node in nodes]
        facets: list[Any] = []
        if run_facets is not None:
            values = run_facets.run_facet_values(partition, tags)
            values += [(run_facets.NODE, node) for node in nodes]
            facets = [(kind, value, created, run_id) for kind, value in values]
        yield run, steps, facets


def fill_many_runs(store: Store, count: int, steps_per_run: int = 3, seed: int = 1) -> None:
    """``count`` runs (the newest few still running), each with up to ``steps_per_run`` steps."""
    tables = [
        (schema.runs, _RUN_COLUMNS),
        (schema.steps, _STEP_COLUMNS),
    ]
    if run_facets is not None:
        tables.append((schema.run_facets, _FACET_COLUMNS))
    batch: list[list[Any]] = [[], [], []]
    with store.transaction() as conn:
        for run, steps, facets in _rows(count, steps_per_run, seed):
            batch[0].append(run)
            batch[1].extend(steps)
            batch[2].extend(facets)
            if len(batch[0]) >= 20_000:
                _write(conn, tables, batch)
                batch = [[], [], []]
        _write(conn, tables, batch)
    if not store.is_sqlite:  # what autovacuum does after a bulk load, done now
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")


def _write(conn: Any, tables: list[Any], batch: list[list[Any]]) -> None:
    for (table, columns), rows in zip(tables, batch, strict=False):
        if not rows:
            continue
        if conn.dialect.name == "postgresql":
            cursor = conn.connection.driver_connection.cursor()
            names = ", ".join(f'"{c}"' for c in columns)
            with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            conn.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])
