"""Pinned runs: kept whatever the retention policy says, with every run they need.

Pinning locks the run's row (``FOR SHARE`` on PostgreSQL) while it records the pin, and
retention locks the rows it is about to delete: a run is either pinned before retention looks at
it again, or gone before the pin is recorded (and pinning then says so).
"""

from __future__ import annotations

import time

from sqlalchemy import delete, select

from legato.errors import NotFoundError
from legato.store import schema
from legato.store.engine import Store
from legato.store.event_log import upsert
from legato.store.runs import get_run


def pin_run(store: Store, run_id: str, by: str) -> str:
    """Pin the run (an id or a unique prefix); return its full id. Pinning twice is harmless."""
    full = get_run(store, run_id).run_id
    r = schema.runs.c
    with store.transaction() as conn:
        locked = conn.execute(
            select(r.run_id).where(r.run_id == full).with_for_update(read=True)
        ).first()
        if locked is None:
            raise NotFoundError(
                f"run {full} was deleted by retention as it was being pinned",
                obj=full,
                hint="pin runs you want to keep before they age past the retention policy",
            )
        pin = upsert(conn.dialect.name, schema.run_pins).values(
            run_id=full, pinned_at=time.time(), pinned_by=by[:80]
        )
        conn.execute(pin.on_conflict_do_nothing(index_elements=["run_id"]))
    return full


def unpin_run(store: Store, run_id: str) -> str:
    """Unpin the run; return its full id. Unpinning a run that is not pinned is harmless."""
    full = get_run(store, run_id).run_id
    with store.transaction() as conn:
        conn.execute(delete(schema.run_pins).where(schema.run_pins.c.run_id == full))
    return full


def is_pinned(store: Store, run_id: str) -> bool:
    with store.read() as conn:
        found = conn.execute(
            select(schema.run_pins.c.run_id).where(schema.run_pins.c.run_id == run_id)
        ).first()
    return found is not None
