"""The rows of runs deleted by retention (tombstones in ``pruned_runs``), deleted at most
``MAX_ROWS`` per transaction, table by table; and counting the rows a run has in each table.

Each table names the rows of a run through an index: steps, events, logs, the step queue (and
its streamed log chunks), materializations, and check results about the run's
materializations (results about a kept materialization stay, whichever run evaluated them).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, tuple_

from legato.store import schema
from legato.store.engine import Store
from legato.store.run_facets import facet_keys
from legato.store.schema_checks import check_results
from legato.store.schema_workers import step_logs, step_queue

MAX_ROWS = 500  # rows deleted per transaction, at most
TOMBSTONES = 50  # runs swept together


def _keys(name: str, run_ids: Sequence[str]) -> Any:
    """The key columns of the table's rows that belong to these runs, as a SELECT."""
    if name == "step_logs":
        return (
            select(step_logs.c.id)
            .join(step_queue, step_queue.c.id == step_logs.c.item_id)
            .where(step_queue.c.run_id.in_(run_ids))
        )
    if name == "steps":
        s = schema.steps.c
        return select(s.run_id, s.step_key).where(s.run_id.in_(run_ids))
    if name == "check_results":
        return select(check_results.c.id).where(check_results.c.target_run.in_(run_ids))
    table = _TABLES[name]
    return select(table.c.id).where(table.c.run_id.in_(run_ids))


# In this order: step log chunks are found through their step queue rows.
_TABLES = {
    "step_logs": step_logs,
    "step_queue": step_queue,
    "logs": schema.logs,
    "events": schema.events,
    "steps": schema.steps,
    "materializations": schema.materializations,
    "check_results": check_results,
}


def _delete_some(conn: Connection, name: str, run_ids: Sequence[str], limit: int) -> int:
    table = _TABLES[name]
    some = _keys(name, run_ids).limit(limit)
    if name == "steps":
        s = schema.steps.c
        stmt = delete(table).where(tuple_(s.run_id, s.step_key).in_(some.subquery().select()))
    else:
        stmt = delete(table).where(table.c.id.in_(some.subquery().select()))
    return int(conn.execute(stmt).rowcount or 0)


def sweep_once(store: Store) -> Counter[str] | None:
    """One transaction: delete up to MAX_ROWS rows of tombstoned runs, table after table, and
    their tombstones once no table has any left; the rows deleted per table. None when there are
    no tombstones. On PostgreSQL tombstones are taken ``FOR UPDATE SKIP LOCKED``: daemons sweep
    different runs."""
    t = schema.pruned_runs.c
    with store.transaction() as conn:
        taken = conn.execute(
            select(t.run_id).order_by(t.run_id).limit(TOMBSTONES).with_for_update(skip_locked=True)
        ).scalars()
        run_ids = [str(r) for r in taken]
        if not run_ids:
            return None
        deleted: Counter[str] = Counter()
        left = MAX_ROWS
        for name in _TABLES:
            deleted[name] = _delete_some(conn, name, run_ids, left)
            left -= deleted[name]
            if not left:  # the table may have more: the next transaction goes on
                return +deleted
        conn.execute(delete(schema.pruned_runs).where(t.run_id.in_(run_ids)))
    return +deleted


def count_rows(store: Store, run_ids: Sequence[str], *, facets: bool = False) -> Counter[str]:
    """How many rows these runs have in each table swept (and their facets, with ``facets``)."""
    found: Counter[str] = Counter()
    with store.read() as conn:
        for start in range(0, len(run_ids), 500):
            chunk = run_ids[start : start + 500]
            queries = {name: _keys(name, chunk) for name in _TABLES}
            if facets:
                found["run_facets"] += len(facet_keys(conn, chunk))
            for name, query in queries.items():
                rows = query.subquery()
                found[name] += int(
                    conn.execute(select(func.count()).select_from(rows)).scalar() or 0
                )
    return +found
