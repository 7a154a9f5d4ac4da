"""Check results: recorded from ``check_evaluated`` events, read per asset, per check, and for
the trust of a materialization (no blocking check's latest result on it failed)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, true

from legato.events.types import Event
from legato.store.engine import Store
from legato.store.schema_checks import CHECK_KEY_LENGTH, check_results


@dataclass(frozen=True)
class CheckRecord:
    """One evaluation of a check, on the materialization of ``target_run``."""

    id: int
    asset_key: str
    partition: str
    check_key: str
    run_id: str
    step_key: str
    target_run: str | None
    ts: float
    outcome: str  # pass | warn | fail
    severity: str
    blocking: bool
    metadata: dict[str, Any]
    description: str | None


def record_check_results(conn: Connection, events: Sequence[Event]) -> None:
    """The ``check_evaluated`` events of a batch, as rows (in the event's transaction)."""
    if not events:
        return
    conn.execute(
        insert(check_results),
        [
            {
                "asset_key": e.data["asset_key"],
                "partition": e.data.get("partition", ""),
                "check_key": str(e.data["check"])[:CHECK_KEY_LENGTH],
                "run_id": e.run_id,
                "step_key": e.step,
                "target_run": e.data.get("target_run"),
                "ts": e.ts,
                "outcome": e.data["outcome"],
                "severity": e.data.get("severity", "error"),
                "blocking": bool(e.data.get("blocking")),
                "metadata": e.data.get("metadata") or {},
                "description": e.data.get("description"),
            }
            for e in events
        ],
    )


def _record(row: Any) -> CheckRecord:
    return CheckRecord(
        row.id,
        row.asset_key,
        row.partition,
        row.check_key,
        row.run_id,
        row.step_key,
        row.target_run,
        row.ts,
        row.outcome,
        row.severity,
        bool(row.blocking),
        row.metadata or {},
        row.description,
    )


def latest_check_results(
    store: Store, asset_key: str | None = None, *, partition: str | None = None, limit: int = 500
) -> list[CheckRecord]:
    """The latest result of each check on each partition (of ``asset_key``, or of every asset),
    newest first."""
    c = check_results.c
    latest = select(func.max(c.id)).group_by(c.asset_key, c.partition, c.check_key)
    if asset_key is not None:
        latest = latest.where(c.asset_key == asset_key)
    if partition is not None:
        latest = latest.where(c.partition == partition)
    query = select(check_results).where(c.id.in_(latest)).order_by(c.id.desc()).limit(limit)
    with store.read() as conn:
        return [_record(r) for r in conn.execute(query)]


def check_history(
    store: Store,
    asset_key: str,
    check_key: str,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> list[CheckRecord]:
    """Results of one check, newest first; page with ``before_id``."""
    c = check_results.c
    query = select(check_results).where(c.asset_key == asset_key, c.check_key == check_key)
    if before_id is not None:
        query = query.where(c.id < before_id)
    with store.read() as conn:
        return [_record(r) for r in conn.execute(query.order_by(c.id.desc()).limit(limit))]


def run_check_results(store: Store, run_id: str) -> list[CheckRecord]:
    """The results a run's check steps recorded, in the order they were."""
    c = check_results.c
    with store.read() as conn:
        rows = conn.execute(select(check_results).where(c.run_id == run_id).order_by(c.id))
        return [_record(r) for r in rows]


def failed_blocking_checks(store: Store, asset_key: str, partition: str, run_id: str) -> list[str]:
    """The blocking checks whose latest result on the materialization of ``asset_key`` /
    ``partition`` by ``run_id`` failed: empty when it can be trusted."""
    c = check_results.c
    query = (
        select(c.check_key, c.outcome)
        .where(c.asset_key == asset_key, c.partition == partition, c.target_run == run_id)
        .where(c.blocking == true())
        .order_by(c.id)
    )
    with store.read() as conn:
        latest = {str(key): str(outcome) for key, outcome in conn.execute(query)}
    return sorted(k for k, outcome in latest.items() if outcome == "fail")
