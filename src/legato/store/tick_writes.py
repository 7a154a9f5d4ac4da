"""Writing what trigger evaluations decided: ticks, the runs they request and each trigger's
progress, for many triggers in ONE transaction.

A daemon evaluates a batch of claimed triggers in memory and commits the batch at once, so the
cost of a commit is paid per batch, not per tick. Each write is fenced by the trigger's owner: a
daemon that lost a trigger's lease while evaluating writes nothing for it (the new owner does).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, update

from legato._internal.ids import bounded_key
from legato.store.alert_outbox import add_facts
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.runs import RunRecord, insert_runs
from legato.store.schema_automation import TICK_KEY_LENGTH, ticks, triggers


@dataclass(frozen=True)
class TickWrite:
    """One tick of one trigger (``tick_key`` None: no tick, only the trigger moves on)."""

    trigger: str
    tick_key: str | None = None
    status: str = "requested"
    runs: Sequence[RunRecord] = ()
    reason: str | None = None
    cursor: str | None = None
    last_tick: float | None = None
    next_due: float | None = None


def write_ticks(
    store: Store, writes: Sequence[TickWrite], *, owner: str | None = None
) -> dict[str, list[str]]:
    """Commit ``writes`` in one transaction; return the run ids of each trigger's ticks (the
    existing runs for requests already made). With ``owner``, triggers another daemon holds,
    and triggers switched off, are skipped; their rows are locked meanwhile, so no claim can slip
    in between."""
    if not writes:
        return {}
    with store.transaction() as conn:
        return write_ticks_in(conn, writes, owner=owner)


def write_ticks_in(
    conn: Connection, writes: Sequence[TickWrite], *, owner: str | None = None
) -> dict[str, list[str]]:
    """:func:`write_ticks` inside the caller's transaction (to commit more with the ticks)."""
    t = triggers.c
    names = sorted({w.trigger for w in writes})
    out: dict[str, list[str]] = {}
    if owner is not None:  # a daemon's evaluation: fenced, and a trigger switched off since
        # it was claimed (ticks are planned a moment ahead) makes no tick
        query = select(t.trigger_id, t.owner, t.enabled).where(t.trigger_id.in_(names))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        held = {row.trigger_id: row for row in conn.execute(query)}
        writes = [
            w
            for w in writes
            if w.trigger not in held
            or (held[w.trigger].owner in (None, owner) and held[w.trigger].enabled)
        ]
    run_ids = iter(insert_runs(conn, [run for w in writes for run in w.runs]))
    now = time.time()
    rows = []
    for w in writes:
        ids = [next(run_ids) for _ in w.runs]
        out.setdefault(w.trigger, []).extend(ids)
        if w.tick_key is not None:
            rows.append(
                {
                    "trigger_id": w.trigger,
                    "tick_key": bounded_key(w.tick_key, TICK_KEY_LENGTH),
                    "ts": now,
                    "status": w.status,
                    "run_id": ids[0] if ids else None,
                    "reason": w.reason,
                }
            )
    failed = [
        (w.trigger, w.reason) for w in writes if w.tick_key is not None and w.status == "failed"
    ]
    add_facts(conn, [("trigger_erroring", t, {"reason": r or ""}) for t, r in failed])
    if rows:
        stmt = upsert(conn.dialect.name, ticks).on_conflict_do_nothing(
            index_elements=["trigger_id", "tick_key"]
        )
        conn.execute(stmt, rows)
    progress = _progress(writes, now)
    if progress:
        change = update(triggers).where(t.trigger_id == bindparam("b_trigger"))
        if owner is not None:
            change = change.where(or_(t.owner.is_(None), t.owner == owner))
        conn.execute(
            change.values(
                updated_at=bindparam("b_updated"),
                cursor=func.coalesce(bindparam("b_cursor", type_=t.cursor.type), t.cursor),
                last_tick=func.coalesce(
                    bindparam("b_last_tick", type_=t.last_tick.type), t.last_tick
                ),
                next_due=func.coalesce(bindparam("b_next_due", type_=t.next_due.type), t.next_due),
            ),
            progress,
        )
    return out


def _progress(writes: Sequence[TickWrite], now: float) -> list[dict[str, Any]]:
    """One update per trigger: its writes in order, the latest value of each field winning."""
    merged: dict[str, dict[str, Any]] = {}
    for w in writes:
        row = merged.setdefault(
            w.trigger, {"b_trigger": w.trigger, "b_updated": now} | dict.fromkeys(_FIELDS)
        )
        for name, value in zip(_FIELDS, (w.cursor, w.last_tick, w.next_due), strict=True):
            if value is not None:
                row[name] = value
    return list(merged.values())


_FIELDS = ("b_cursor", "b_last_tick", "b_next_due")
