"""Violations of freshness policies and pipeline SLAs: opened once per subject, resolved when it
recovers, each change with its alert fact in the same transaction."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, func, select, update

from legato._internal.durations import format_duration
from legato._internal.ids import bounded_key
from legato.events.status import RunStatus
from legato.store.alert_outbox import add_fact
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.runs import RunRecord, run_from_row
from legato.store.schema import runs
from legato.store.schema_freshness import SUBJECT_LENGTH, violations

KINDS = ("freshness", "sla")


@dataclass(frozen=True)
class Miss:
    """A subject late now: an asset (partition) behind its policy, or a pipeline past its SLA."""

    subject: str
    late_since: float
    asset_key: str | None = None
    pipeline: str | None = None
    partition: str = ""
    run_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Violation:
    id: int
    kind: str
    subject: str
    asset_key: str | None
    pipeline: str | None
    partition: str
    run_id: str | None
    late_since: float
    opened_at: float
    resolved_at: float | None
    detail: dict[str, Any]

    @property
    def open(self) -> bool:
        return self.resolved_at is None


def open_key(kind: str, subject: str) -> str:
    return bounded_key(f"{kind}:{subject}", SUBJECT_LENGTH)


def record_misses(
    store: Store,
    kind: str,
    late: Sequence[Miss],
    *,
    assessed: Collection[str],
    defined: Collection[str] | None,
    now: float,
) -> tuple[list[int], list[int]]:
    """Open a violation for each late subject that has none open; resolve the open ones whose
    owner (asset or pipeline) was ``assessed`` and is no longer late, or is no longer
    ``defined`` (None: the definitions are not known in full, so keep those). Each opening adds
    its ``<kind>_missed`` alert fact in the same transaction. Returns the ids opened and
    resolved."""
    v = violations.c
    owner_col = v.asset_key if kind == "freshness" else v.pipeline
    late_keys = {open_key(kind, m.subject) for m in late}
    with store.read() as conn:  # most looks change nothing: write only when something does
        current = conn.execute(
            select(v.id, v.open_key, owner_col).where(v.kind == kind, v.open_key.is_not(None))
        ).all()
    known = {row.open_key for row in current}
    new = [m for m in late if open_key(kind, m.subject) not in known]
    done = [
        r.id
        for r in current
        if r.open_key not in late_keys
        and (r[2] in assessed or (defined is not None and r[2] not in defined))
    ]
    if not new and not done:
        return [], []
    opened: list[int] = []
    resolved: list[int] = []
    with store.transaction() as conn:
        for miss in new:
            stmt = (
                upsert(conn.dialect.name, violations)
                .values(
                    kind=kind,
                    subject=miss.subject,
                    asset_key=miss.asset_key,
                    pipeline=miss.pipeline,
                    partition=miss.partition,
                    run_id=miss.run_id,
                    late_since=miss.late_since,
                    opened_at=now,
                    detail=dict(miss.detail),
                    open_key=open_key(kind, miss.subject),
                )
                .on_conflict_do_nothing(index_elements=["open_key"])
                .returning(v.id)
            )
            new_id = conn.execute(stmt).scalar()
            if new_id is not None:  # else another daemon opened it a moment ago
                opened.append(int(new_id))
                add_fact(conn, f"{kind}_missed", str(new_id), {"subject": miss.subject}, now)
        if done:  # each resolved once: the open key is the guard
            rows = conn.execute(
                update(violations)
                .where(v.id.in_(done), v.open_key.is_not(None))
                .values(resolved_at=now, open_key=None)
                .returning(v.id)
            ).all()
            resolved = [int(r.id) for r in rows]
    return opened, resolved


def list_violations(
    store: Store,
    *,
    kind: str | None = None,
    asset: str | None = None,
    pipeline: str | None = None,
    open_only: bool = False,
    before_id: int | None = None,
    limit: int = 100,
) -> list[Violation]:
    """Violations, newest first."""
    v = violations.c
    query = select(violations).order_by(v.id.desc()).limit(limit)
    for column, value in ((v.kind, kind), (v.asset_key, asset), (v.pipeline, pipeline)):
        if value is not None:
            query = query.where(column == value)
    if open_only:
        query = query.where(v.resolved_at.is_(None))
    if before_id is not None:
        query = query.where(v.id < before_id)
    with store.read() as conn:
        return [_violation(r) for r in conn.execute(query)]


def get_violation(store: Store, violation_id: int) -> Violation | None:
    with store.read() as conn:
        row = conn.execute(select(violations).where(violations.c.id == violation_id)).first()
    return None if row is None else _violation(row)


def _violation(r: Any) -> Violation:
    return Violation(
        r.id,
        r.kind,
        r.subject,
        r.asset_key,
        r.pipeline,
        r.partition,
        r.run_id,
        r.late_since,
        r.opened_at,
        r.resolved_at,
        r.detail or {},
    )


# -- pipeline SLAs ------------------------------------------------------------------------------


def sla_misses(store: Store, slas: Mapping[str, float], now: float) -> list[Miss]:
    """The pipelines whose latest run due by now (queued ``sla`` seconds ago or earlier) has not
    succeeded within its SLA, unless a run of the pipeline queued since has succeeded. A run
    cancelled within its SLA misses nothing."""
    r = runs.c
    misses = []
    with store.read() as conn:
        for pipeline, sla in slas.items():
            row = conn.execute(
                select(runs)
                .where(r.pipeline == pipeline, r.created_at <= now - sla)
                .order_by(r.created_at.desc())
                .limit(1)
            ).first()
            if row is None:
                continue
            run = run_from_row(row)
            deadline = run.created_at + sla
            kept = run.ended_at is not None and run.ended_at <= deadline
            if kept and run.status in (RunStatus.SUCCEEDED, RunStatus.CANCELLED):
                continue
            later_success = exists(
                select(r.run_id).where(
                    r.pipeline == pipeline,
                    r.created_at >= run.created_at,
                    r.status == RunStatus.SUCCEEDED.value,
                )
            )
            if conn.execute(select(later_success)).scalar():
                continue
            misses.append(_sla_miss(run, pipeline, sla, deadline))
    return misses


def _sla_miss(run: RunRecord, pipeline: str, sla: float, deadline: float) -> Miss:
    return Miss(
        subject=pipeline,
        late_since=deadline,
        pipeline=pipeline,
        run_id=run.run_id,
        detail={
            "sla_seconds": sla,
            "run_status": run.status.value,
            "queued_at": run.created_at,
            "expected": f"a run queued at {_at(run.created_at)} succeeded within "
            f"{format_duration(sla)}",
        },
    )


def open_count(store: Store) -> dict[str, int]:
    """Open violations by kind."""
    v = violations.c
    with store.read() as conn:
        rows = conn.execute(
            select(v.kind, func.count()).where(v.resolved_at.is_(None)).group_by(v.kind)
        ).all()
    return {str(kind): int(n) for kind, n in rows}


def _at(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
