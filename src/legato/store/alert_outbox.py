"""The alert outbox: facts that may raise an alert, written in the transaction of the fact.

A run's failure event, a freshness or SLA violation, a failed trigger evaluation and a daemon
found dead each add a row here as they are recorded, so an alert cannot be lost between the fact
and its notification: the daemon's alert loop claims the rows, applies the rules of
``legato.toml`` and deletes them in one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from legato._internal.ids import bounded_key
from legato.store.engine import Store
from legato.store.schema_alerts import alert_outbox
from legato.store.schema_freshness import SUBJECT_LENGTH


@dataclass(frozen=True)
class Fact:
    id: int
    kind: str
    ref: str
    ts: float
    detail: Mapping[str, Any]


def add_fact(
    conn: Connection,
    kind: str,
    ref: str,
    detail: Mapping[str, Any] | None = None,
    ts: float | None = None,
) -> None:
    """Record that ``kind`` happened to ``ref``, inside the caller's transaction."""
    add_facts(conn, [(kind, ref, detail or {})], ts)


def add_facts(
    conn: Connection, facts: list[tuple[str, str, Mapping[str, Any]]], ts: float | None = None
) -> None:
    if facts:
        at = time.time() if ts is None else ts
        conn.execute(
            insert(alert_outbox),
            [
                {
                    "kind": kind,
                    "ref": bounded_key(ref, SUBJECT_LENGTH),
                    "ts": at,
                    "detail": dict(detail),
                }
                for kind, ref, detail in facts
            ],
        )


def has_facts(store: Store) -> bool:
    """Whether any fact waits (a read: the alert loop looks often, and writes only then)."""
    with store.read() as conn:
        return conn.execute(select(alert_outbox.c.id).limit(1)).first() is not None


def take_facts(conn: Connection, limit: int = 200) -> list[Fact]:
    """The oldest facts, locked for the caller's transaction (others skip them on PostgreSQL);
    the caller deletes them with :func:`drop_facts` before it commits."""
    o = alert_outbox.c
    query = select(alert_outbox).order_by(o.id).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [Fact(r.id, r.kind, r.ref, r.ts, r.detail or {}) for r in conn.execute(query).all()]


def drop_facts(conn: Connection, facts: list[Fact]) -> None:
    if facts:
        conn.execute(delete(alert_outbox).where(alert_outbox.c.id.in_([f.id for f in facts])))
