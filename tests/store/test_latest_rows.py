"""Key look-ups in ``asset_latest`` cost the keys asked about, not the keys the asset has, also
right after a bulk load, when PostgreSQL has no statistics of the table yet."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event

import legato as lg
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.store import schema
from legato.store.engine import Store
from legato.store.partitions import materialized_among
from legato.store.staleness import stale_among
from legato.store.web_queries import key_statuses

KEYS = [f"k{i:05d}" for i in range(20_000)]


@lg.asset(partitions=lg.StaticPartitions(KEYS))
def raw() -> int:
    return 1


@lg.asset(partitions=lg.StaticPartitions(KEYS))
def clean(raw: int) -> int:
    return raw


GRAPH = build_graph(Project.of([raw, clean]))


def _load(store: Store, asset: str, at: float) -> None:
    """Rows for every key, in bulk and never analyzed: a third failed, the rest materialized."""
    rows = [
        {
            "asset_key": asset,
            "partition": key,
            "status": "failed" if i % 3 == 0 else "materialized",
            "run_id": "r",
            "step_key": f"{asset}[{key}]",
            "ts": at,
            "materialized_at": None if i % 3 == 0 else at,
            "materialized_run": "r",
            "metadata": "{}",
        }
        for i, key in enumerate(KEYS)
    ]
    with store.transaction() as conn:
        conn.execute(schema.asset_latest.insert(), rows)


@contextmanager
def _queries_of_asset_latest(store: Store) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT") and "asset_latest" in statement:
            seen.append((statement, params))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)


def _rows_read(store: Store, statement: str, params: Any) -> int:
    """Rows of ``asset_latest`` the statement reads (PostgreSQL: counted while it runs)."""
    with store.engine.connect() as conn:
        found = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", params)
        plan = found.scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def walk(node: dict[str, Any]) -> int:
        own = 0
        if node.get("Relation Name") == "asset_latest":
            removed = node.get("Rows Removed by Filter", 0) + node.get(
                "Rows Removed by Index Recheck", 0
            )
            own = (node["Actual Rows"] + removed) * node["Actual Loops"]
        return own + sum(walk(child) for child in node.get("Plans", []))

    return walk(plan[0]["Plan"])


def _searches_by_key(store: Store, statement: str, params: Any) -> bool:
    """Whether SQLite finds every row of ``asset_latest`` by its whole primary key."""
    with store.engine.connect() as conn:
        steps = [r[-1] for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)]
    used = [s for s in steps if "asset_latest" in s]
    return bool(used) and all(
        s.startswith("SEARCH") and "asset_key=? AND partition=?" in s for s in used
    )


LOOKUPS: dict[str, Callable[[Store, list[str]], object]] = {
    "statuses": lambda store, keys: key_statuses(store, "clean", keys),
    "materialized": lambda store, keys: materialized_among(store, "clean", keys),
    "stale": lambda store, keys: stale_among(
        store, GRAPH, "clean", keys, now=datetime(2026, 1, 1, tzinfo=UTC)
    ),
}


@pytest.mark.parametrize("lookup", sorted(LOOKUPS))
def test_key_lookups_read_only_the_keys_asked_before_the_table_is_analyzed(store: Store, lookup):
    _load(store, "clean", at=100.0)
    _load(store, "raw", at=200.0)
    asked = KEYS[1000:1500]
    with _queries_of_asset_latest(store) as queries:
        LOOKUPS[lookup](store, asked)
    assert queries
    for statement, params in queries:
        if store.is_sqlite:
            assert _searches_by_key(store, statement, params), statement
        else:
            assert _rows_read(store, statement, params) <= len(asked), statement


def test_key_lookups_answer_for_the_keys_asked_only(store: Store):
    _load(store, "clean", at=100.0)
    asked = [*KEYS[:1200], "absent", KEYS[5]]  # more keys than one statement takes
    statuses = key_statuses(store, "clean", asked)
    assert set(statuses) == set(KEYS[:1200])
    assert {k for k, s in statuses.items() if s.status == "failed"} == set(KEYS[:1200:3])
    assert materialized_among(store, "clean", asked) == set(KEYS[:1200]) - set(KEYS[:1200:3])
