"""Lists of runs: every filter and combination lists exactly the runs that match, newest first,
page after page, and reads each page in list order from an index (EXPLAIN, on both stores)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import text

from legato.events.status import RunStatus
from legato.store.backfills import create_backfill
from legato.store.engine import Store
from legato.store.run_search import RunFilter, runs_query
from legato.store.runs import NewStep, RunRecord, add_steps, create_run, insert_runs, list_runs

LONG_PARTITION = "|".join(f"2025-{m:02d}-{d:02d}" for m in range(1, 4) for d in range(1, 29))
LONG_TAG = "note=" + "x" * 300
T0 = 1_700_000_000.0


@dataclass(frozen=True)
class Seeded:
    run: RunRecord
    nodes: frozenset[str]


def _seed(store: Store) -> list[Seeded]:
    """41 runs: three pipelines (one None), statuses, partitions, tags and nodes in a pattern,
    creation times in pairs (the run id breaks ties), and one run with a partition and a tag
    too long for a facet's column."""
    create_backfill(
        store, "bf1", "*", [], [], max_concurrent=1, missing_only=False, executor="inprocess"
    )
    made = []
    statuses = list(RunStatus)
    for i in range(40):
        tags = {"team": f"t{i % 3}"} | ({"prio": "high"} if i % 5 == 0 else {})
        record = RunRecord(
            run_id=f"r{i:03d}",
            selection="*",
            status=statuses[i % len(statuses)],
            created_at=T0 + i // 2,
            pipeline=[None, "nightly", "hourly"][i % 3],
            partition=f"2025-01-{i % 4 + 1:02d}" if i % 7 else "",
            tags=tags,
            trigger="schedule:x" if i % 2 else "manual",
            backfill_id="bf1" if i % 9 == 0 else None,
        )
        nodes = frozenset({f"a{i % 4}", f"a{i % 6}"} if i % 8 else set())
        create_run(store, record, [NewStep(n, n, "asset") for n in sorted(nodes)])
        made.append(Seeded(record, nodes))
    with store.transaction() as conn:  # a batch, as triggers insert them
        long = RunRecord(
            "r999",
            "*",
            RunStatus.SUCCEEDED,
            T0 + 5,
            partition=LONG_PARTITION,
            tags=dict([LONG_TAG.split("=", 1)]),
            idempotency_key="k1",
        )
        insert_runs(conn, [long])
        add_steps(conn, "r999", [NewStep("a1", "a1", "asset")])
        add_steps(conn, "r999", [NewStep("a1#0", "a1", "asset", map_index=0)])  # a fan-out
    made.append(Seeded(long, frozenset({"a1"})))
    return made


def _matches(where: RunFilter, seeded: Seeded) -> bool:
    r = seeded.run
    tags = {f"{k}={v}" for k, v in r.tags.items()}
    return (
        (not where.statuses or r.status.value in where.statuses)
        and (where.pipeline is None or r.pipeline == where.pipeline)
        and (where.asset is None or where.asset in seeded.nodes)
        and (where.partition is None or r.partition == where.partition)
        and set(where.tags) <= tags
        and (where.created_after is None or r.created_at >= where.created_after)
        and (where.created_before is None or r.created_at < where.created_before)
        and (where.trigger is None or r.trigger == where.trigger)
        and (where.backfill_id is None or r.backfill_id == where.backfill_id)
    )


FILTERS = [
    RunFilter(),
    RunFilter(statuses=("failed",)),
    RunFilter(statuses=("queued", "running", "succeeded")),
    RunFilter(pipeline="nightly"),
    RunFilter(asset="a1"),
    RunFilter(asset="nowhere"),
    RunFilter(partition="2025-01-02"),
    RunFilter(partition=LONG_PARTITION),
    RunFilter(partition="1999-01-01"),
    RunFilter(tags=("team=t1",)),
    RunFilter(tags=("team=t1", "prio=high")),
    RunFilter(tags=(LONG_TAG,)),
    RunFilter(created_after=T0 + 6, created_before=T0 + 15),
    RunFilter(trigger="schedule:x"),
    RunFilter(backfill_id="bf1"),
    RunFilter(statuses=("failed", "succeeded"), pipeline="hourly"),
    RunFilter(asset="a1", statuses=("succeeded",)),
    RunFilter(asset="a2", partition="2025-01-03", tags=("team=t2",)),
    RunFilter(partition="2025-01-02", pipeline="nightly", created_after=T0 + 4),
    RunFilter(tags=("team=t0",), created_after=T0 + 10, statuses=("queued", "cancelled")),
]


def _walk(store: Store, where: RunFilter, limit: int) -> list[str]:
    seen: list[str] = []
    before = None
    while True:
        page = list_runs(store, where, limit=limit, before=before)
        seen += [r.run_id for r in page]
        if len(page) < limit:
            return seen
        before = (page[-1].created_at, page[-1].run_id)


def test_every_filter_lists_exactly_its_runs_newest_first_page_after_page(store: Store):
    seeded = _seed(store)
    for where in FILTERS:
        expected = [
            s.run.run_id
            for s in sorted(seeded, key=lambda s: (s.run.created_at, s.run.run_id), reverse=True)
            if _matches(where, s)
        ]
        assert _walk(store, where, 3) == expected, where
        assert _walk(store, where, 100) == expected, where
    assert any(_walk(store, w, 100) for w in FILTERS[1:]), "the filters match something"


_PG_UNORDERED = re.compile(r"(^|->\s+)(Seq Scan on|Sort|Incremental Sort)\s+\S*\s*\(cost")


def _unbounded(plan: list[str], sqlite: bool) -> list[str]:
    """Reads of a table that no condition bounds: SQLite's ``SCAN table`` (a subquery's page,
    ``anon_``, is bounded already); PostgreSQL's index scans without an ``Index Cond``, which
    read the index from one end to the other, and its sequential scans and sorts."""
    if sqlite:
        return [line for line in plan if re.match(r"SCAN (?!anon_)", line.strip())]
    found = [line for line in plan if _PG_UNORDERED.search(line.strip())]
    for i, line in enumerate(plan):
        if re.search(r"Index (Only )?Scan", line) and "Bitmap" not in line:
            depth = len(line) - len(line.lstrip())
            block = []
            for below in plan[i + 1 :]:
                if len(below) - len(below.lstrip()) <= depth or "->" in below:
                    break
                block.append(below)
            if not any("Index Cond:" in b for b in block):
                found.append(line)
    return found


def _plan(store: Store, where: RunFilter, before: tuple[float, str] | None) -> list[str]:
    with store.read() as conn:
        if not store.is_sqlite:  # a tiny table: make any plan the data allows win over a scan
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            conn.execute(text("SET LOCAL enable_sort = off"))
        query = runs_query(conn, where, limit=50, before=before)
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        explain = "EXPLAIN QUERY PLAN " if store.is_sqlite else "EXPLAIN "
        rows = conn.execute(text(explain + sql))
        return [str(row[-1] if store.is_sqlite else row[0]) for row in rows]


def test_each_filter_reads_its_page_in_list_order_from_an_index(store: Store):
    """Every condition bounds the index range a page is read from (the first page of all runs
    reads the newest end of the creation-time index), and nothing is sorted but pages merged."""
    _seed(store)
    for where in FILTERS:
        for before in (None, (T0 + 12, "r020")):
            plan = _plan(store, where, before)
            if where == RunFilter() and before is None:
                assert (
                    plan[-1]
                    .strip()
                    .startswith(
                        "SCAN runs USING INDEX ix_runs_created"
                        if store.is_sqlite
                        else "->  Index Scan Backward using ix_runs_created"
                    )
                ), plan
                continue
            assert not _unbounded(plan, store.is_sqlite), (where, plan)
            if store.is_sqlite:
                merged = any("UNION ALL" in line for line in plan)  # a page per status, merged
                assert merged or not any("TEMP B-TREE" in line for line in plan), (where, plan)
