"""The audit log: who launched, cancelled or re-ran what, and who changed which user."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from legato.store.engine import Store
from legato.store.schema_web import web_audit


@dataclass(frozen=True)
class AuditEntry:
    id: int
    ts: float
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


def record(
    conn: Connection, actor: str, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """Append an entry inside the caller's transaction (so the action and its record commit
    together)."""
    conn.execute(
        insert(web_audit).values(
            ts=time.time(),
            actor=actor[:80],
            action=action,
            target=target[:255],
            detail=dict(detail or {}),
        )
    )


def audit(
    store: Store, actor: str, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """Append an entry in its own transaction."""
    with store.transaction() as conn:
        record(conn, actor, action, target, detail)


def list_audit(store: Store, *, before_id: int | None = None, limit: int = 100) -> list[AuditEntry]:
    """Newest first, with ids below ``before_id``."""
    a = web_audit.c
    query = select(web_audit).order_by(a.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(a.id < before_id)
    with store.read() as conn:
        return [
            AuditEntry(r.id, r.ts, r.actor, r.action, r.target, r.detail or {})
            for r in conn.execute(query)
        ]
