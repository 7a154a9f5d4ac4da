"""Captured step logs: read them back in order, from a position, for streaming."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from legato.store import schema
from legato.store.engine import Store


@dataclass(frozen=True)
class LogLine:
    id: int
    run_id: str
    step_key: str
    ts: float
    level: str
    stream: str
    message: str


def read_logs(
    store: Store,
    run_id: str,
    step_key: str | None = None,
    *,
    after_id: int = 0,
    limit: int = 10_000,
) -> list[LogLine]:
    """Lines of a run (or one step of it) with id > ``after_id``, oldest first."""
    c = schema.logs.c
    query = (
        select(schema.logs).where(c.run_id == run_id, c.id > after_id).order_by(c.id).limit(limit)
    )
    if step_key is not None:
        query = query.where(c.step_key == step_key)
    with store.read() as conn:
        return [
            LogLine(r.id, r.run_id, r.step_key, r.ts, r.level, r.stream, r.message)
            for r in conn.execute(query)
        ]
