"""Stale partitions counted in the store agree with the definition, key by key: a materialized key
is stale when an upstream partition it reads was materialized after it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import legato as lg
from legato.definitions.partitions import DailyPartitions, WeeklyPartitions
from legato.definitions.project import Project
from legato.graph.build import build_graph
from legato.store import schema
from legato.store.engine import Store
from legato.store.staleness import count_stale, stale_among

NOW = datetime(2025, 3, 1, tzinfo=UTC)
DAYS = DailyPartitions(start="2025-01-06", end="2025-03-03")
WEEKS = WeeklyPartitions(start="2025-01-06", end="2025-03-03")


@lg.asset
def prices() -> int:
    return 1


@lg.asset(partitions=DAYS)
def raw() -> int:
    return 1


@lg.asset(partitions=DAYS)
def clean(raw: int, prices: int) -> int:
    return raw


@lg.asset(partitions=WEEKS)
def weekly(clean: dict[str, int]) -> int:
    return 1


GRAPH = build_graph(Project.of([prices, raw, clean, weekly]))


def _record(store: Store, asset: str, times: dict[str, float], status: str = "materialized"):
    rows = [
        {
            "asset_key": asset,
            "partition": key,
            "status": status,
            "run_id": "r",
            "step_key": f"{asset}[{key}]",
            "ts": at,
            "materialized_at": at,
            "materialized_run": "r",
            "metadata": "{}",
        }
        for key, at in times.items()
    ]
    with store.transaction() as conn:
        conn.execute(schema.asset_latest.insert(), rows)


def _by_definition(
    asset: str, times: dict[str, dict[str, float]], failed: set[str] = frozenset()
) -> set[str]:
    node = GRAPH[asset]
    stale = set()
    for key, at in times[asset].items():
        if key in failed:
            continue
        for up in node.upstream:
            mapping, space = node.mappings.get(up), GRAPH[up].partitions
            reads = (
                [""]
                if mapping is None or space is None
                else (mapping.upstream_keys(key, space, node.partitions, now=NOW))
            )
            if any(times.get(up, {}).get(k, 0.0) > at for k in reads):
                stale.add(key)
    return stale


def test_stale_keys_counted_in_the_store_are_those_of_the_definition(store: Store):
    days = list(DAYS.keys(NOW))
    base = time.time()
    times = {
        "raw": {k: base + (5 if i % 7 == 0 else 0) for i, k in enumerate(days)},
        "clean": dict.fromkeys(days[:40], base + 1) | {days[45]: base + 10},
        "weekly": dict.fromkeys(list(WEEKS.keys(NOW)), base + 2),
        "prices": {"": base},
    }
    _record(store, "raw", times["raw"])
    _record(store, "clean", {k: t for k, t in times["clean"].items() if k != days[3]})
    _record(store, "clean", {days[3]: times["clean"][days[3]]}, status="failed")
    times["clean"][days[45]] = base + 10
    _record(store, "weekly", times["weekly"])
    _record(store, "prices", times["prices"])

    stale_clean = _by_definition("clean", times, failed={days[3]})
    assert 0 < len(stale_clean) < 40  # raw's every seventh day is newer than clean's
    assert count_stale(store, GRAPH, "clean", now=NOW) == len(stale_clean)
    shown = days[:20]
    assert stale_among(store, GRAPH, "clean", shown, now=NOW) == stale_clean & set(shown)
    # weeks read days of clean: those with a day materialized after the week (one day, 45)
    stale_weekly = _by_definition("weekly", times)
    assert len(stale_weekly) == 1
    assert count_stale(store, GRAPH, "weekly", now=NOW) == 1

    with store.transaction() as conn:  # the unpartitioned upstream changes: every key is stale
        conn.execute(
            schema.asset_latest.update()
            .where(schema.asset_latest.c.asset_key == "prices")
            .values(materialized_at=base + 20)
        )
    assert count_stale(store, GRAPH, "clean", now=NOW) == 40  # 41 seen, one failed
