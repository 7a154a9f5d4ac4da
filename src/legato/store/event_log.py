"""Append events, and update the runs/steps/asset projections in the same transaction."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

from sqlalchemy import Connection, Float, bindparam, delete, func, insert, update

from legato.events.types import Event, EventType
from legato.store import schema
from legato.store.alert_outbox import add_facts
from legato.store.checks import record_check_results
from legato.store.latest_counts import Changes, add_changes, lock_assets, status_changes
from legato.store.notify import RUN_FINISHED_CHANNEL, notify

_STEP_UPDATE = (
    update(schema.steps)
    .where(
        schema.steps.c.run_id == bindparam("b_run"), schema.steps.c.step_key == bindparam("b_step")
    )
    .values(status=bindparam("b_status"), attempt=bindparam("b_attempt"))
)
_STEP_START = _STEP_UPDATE.values(started_at=bindparam("b_ts"), ended_at=None)
# An attempt's end event may say when it began to execute (``data.started_at``): steps started
# in one batch can run one after another, so that is when it started, not its start event.
_STEP_END = _STEP_UPDATE.values(
    ended_at=bindparam("b_ts"),
    error=bindparam("b_error"),
    started_at=func.coalesce(bindparam("b_started", type_=Float), schema.steps.c.started_at),
)
_STEP_REUSE = _STEP_UPDATE.values(ended_at=bindparam("b_ts"), reused_from=bindparam("b_from"))
_RUN_UPDATE = update(schema.runs).where(schema.runs.c.run_id == bindparam("b_run"))

_STARTS = {EventType.STEP_STARTED, EventType.STEP_EXPANDED}
_ENDS = {
    EventType.STEP_SUCCEEDED,
    EventType.STEP_FAILED,
    EventType.STEP_RETRY,
    EventType.STEP_SKIPPED,
    EventType.STEP_CANCELLED,
}


def append(conn: Connection, events: Sequence[Event], logs: Sequence[dict[str, Any]] = ()) -> None:
    """Append ``events`` (and log lines) and update every projection they touch."""
    if events:
        conn.execute(
            insert(schema.events),
            [
                {
                    "run_id": e.run_id,
                    "step_key": e.step,
                    "type": e.type.value,
                    "ts": e.ts,
                    "attempt": e.attempt,
                    "status": e.status,
                    "data": e.data or {},
                }
                for e in events
            ],
        )
        _project_steps(conn, [e for e in events if e.step and e.status])
        _project_runs(conn, [e for e in events if not e.step and e.status])
        failed = [e for e in events if e.type is EventType.RUN_FAILED]
        add_facts(conn, [("run_failed", e.run_id, {}) for e in failed])  # for the alert loop
        checked = [e for e in events if e.type is EventType.CHECK_EVALUATED]
        record_check_results(conn, checked)
        add_facts(  # a failed check, for the alert loop (its detail says which and where)
            conn,
            [
                ("check_failed", f"{e.data['asset_key']}:{e.data['check']}", _check_fact(e))
                for e in checked
                if e.data.get("outcome") == "fail"
            ],
        )
        _project_latest(conn, events)  # last: it locks the assets' counts until commit
    if logs:
        conn.execute(insert(schema.logs), list(logs))


def _project_steps(conn: Connection, events: Iterable[Event]) -> None:
    """Apply step events in their order: a retry followed by the next attempt's start in one
    batch must leave the step running that attempt. Consecutive events of one kind share a
    statement."""
    batches: list[tuple[Any, list[dict[str, Any]]]] = []
    for e in events:
        row = {
            "b_run": e.run_id,
            "b_step": e.step,
            "b_status": e.status,
            "b_attempt": e.attempt,
            "b_ts": e.ts,
        }
        if e.type in _STARTS:
            stmt = _STEP_START
        elif e.type in _ENDS:
            err = e.data.get("error")
            row["b_error"] = err or None
            row["b_started"] = e.data.get("started_at")
            stmt = _STEP_END
        elif e.type is EventType.STEP_REUSED:
            row["b_from"] = e.data.get("from_run")
            stmt = _STEP_REUSE
        else:
            continue
        if batches and batches[-1][0] is stmt:
            batches[-1][1].append(row)
        else:
            batches.append((stmt, [row]))
    for stmt, rows in batches:
        conn.execute(stmt, rows)


def _project_runs(conn: Connection, events: Iterable[Event]) -> None:
    for e in events:
        values: dict[str, Any] = {"status": e.status}
        if e.type is EventType.RUN_STARTED:
            values["started_at"] = e.ts
        elif e.type in (EventType.RUN_SUCCEEDED, EventType.RUN_FAILED, EventType.RUN_CANCELLED):
            values["ended_at"] = e.ts
            if e.data.get("error"):
                values["error"] = e.data["error"]
            notify(conn, RUN_FINISHED_CHANNEL, e.run_id)  # a backfill's driver waits for it
        conn.execute(_RUN_UPDATE.values(**values), {"b_run": e.run_id})


def _project_latest(conn: Connection, events: Sequence[Event]) -> None:
    """The latest state of each asset partition the events touch, and the counts by status."""
    touched = [e for e in events if e.type in _ASSET_WRITES and e.data.get("asset_key")]
    lock_assets(conn, (e.data["asset_key"] for e in touched))
    changes = _project_asset_status(conn, [e for e in touched if e.step])
    changes.update(
        _project_materializations(conn, [e for e in events if e.type is EventType.MATERIALIZED])
    )
    add_changes(conn, changes)


def _project_materializations(conn: Connection, events: Sequence[Event]) -> Changes:
    if not events:
        return Counter()
    rows = [
        {
            "asset_key": e.data["asset_key"],
            "partition": e.data.get("partition", ""),
            "run_id": e.run_id,
            "step_key": e.step,
            "ts": e.ts,
            "metadata": e.data.get("metadata") or {},
        }
        for e in events
    ]
    conn.execute(insert(schema.materializations), rows)
    return _upsert_status(
        conn,
        [
            dict(r, status="materialized", materialized_at=r["ts"], materialized_run=r["run_id"])
            for r in rows
        ],
        ("status", "run_id", "step_key", "ts", "materialized_at", "materialized_run", "metadata"),
    )


_ASSET_STATUS = {
    EventType.STEP_STARTED: "in_progress",
    EventType.STEP_FAILED: "failed",
}
_ASSET_RELEASE = {EventType.STEP_CANCELLED, EventType.STEP_SKIPPED}
_ASSET_WRITES = {*_ASSET_STATUS, *_ASSET_RELEASE, EventType.MATERIALIZED}


def _project_asset_status(conn: Connection, events: Sequence[Event]) -> Changes:
    """Attempts of asset steps: in progress, failed, or back to what it was when cancelled."""
    changes, released = [], []
    for e in events:
        key = {"asset_key": e.data["asset_key"], "partition": e.data.get("partition", "")}
        if e.type in _ASSET_STATUS:
            changes.append(
                dict(
                    key,
                    status=_ASSET_STATUS[e.type],
                    run_id=e.run_id,
                    step_key=e.step,
                    ts=e.ts,
                    metadata="{}",
                )
            )
        elif e.type in _ASSET_RELEASE:
            released.append(
                {"b_asset": key["asset_key"], "b_partition": key["partition"], "b_run": e.run_id}
            )
    counted: Changes = Counter()
    if changes:
        counted = _upsert_status(conn, changes, ("status", "run_id", "step_key", "ts"))
    for asset in sorted({r["b_asset"] for r in released}):
        # only in-progress rows change: the rows each statement changed are its counts
        mine = [r for r in released if r["b_asset"] == asset]
        back = conn.execute(_RELEASE_TO_MATERIALIZED, mine).rowcount
        gone = conn.execute(_RELEASE_UNMATERIALIZED, mine).rowcount
        counted.update({(asset, "in_progress"): -back - gone, (asset, "materialized"): back})
    return counted


_a = schema.asset_latest.c
_RELEASED = (
    (_a.asset_key == bindparam("b_asset"))
    & (_a.partition == bindparam("b_partition"))
    & (_a.run_id == bindparam("b_run"))
    & (_a.status == "in_progress")
)
_RELEASE_TO_MATERIALIZED = (
    update(schema.asset_latest)
    .where(_RELEASED & _a.materialized_at.is_not(None))
    .values(status="materialized", previous_status=_a.status)
)
_RELEASE_UNMATERIALIZED = delete(schema.asset_latest).where(
    _RELEASED & _a.materialized_at.is_(None)
)


def _upsert_status(
    conn: Connection, rows: list[dict[str, Any]], columns: tuple[str, ...]
) -> Changes:
    """Write the rows, each key's status before the write kept in ``previous_status``: what the
    statement returns is how it changed the counts (``latest_counts``)."""
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:  # one row per key per statement: PostgreSQL refuses duplicates in one upsert
        latest[(row["asset_key"], row["partition"])] = row
    ordered = [latest[k] for k in sorted(latest)]  # rows locked in one order by every writer
    written = conn.execute(_upserting(conn.dialect.name, columns), ordered)
    return status_changes((str(k), before, str(after)) for k, before, after in written)


@cache  # built once per kind: building it costs more than running it
def _upserting(dialect: str, columns: tuple[str, ...]) -> Any:
    a = schema.asset_latest.c
    stmt = upsert(dialect, schema.asset_latest)
    return stmt.on_conflict_do_update(
        index_elements=["asset_key", "partition"],
        set_={"previous_status": a.status, **{c: stmt.excluded[c] for c in columns}},
    ).returning(a.asset_key, a.previous_status, a.status)


def upsert(dialect: str, table: Any) -> Any:
    """INSERT … ON CONFLICT for the dialect (imported on use: the PostgreSQL one is slow to load)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _check_fact(event: Event) -> dict[str, Any]:
    data = event.data
    return {
        "asset": data["asset_key"],
        "check": str(data["check"]),
        "partition": data.get("partition", ""),
        "run_id": event.run_id,
        "blocking": bool(data.get("blocking")),
    }
