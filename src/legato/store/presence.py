"""A daemon's presence on PostgreSQL: a session advisory lock held on a connection of its own.

The server releases the lock the moment that connection ends, so when a daemon dies (kill -9, a
crash, a host gone and its TCP connection reset) the others see it at their next claim instead of
waiting out its trigger leases. The lock's keys are ``(PRESENCE_CLASS, hashtext(schema:daemon_id))``
(advisory locks belong to the database, and stores in other schemas of it have daemons of their
own), which ``gone_owner`` tests from SQL through ``pg_locks``. Leases stay the fallback (SQLite, or a
daemon that holds no lock), and every write stays fenced by the trigger's owner.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, or_, select, text

from legato.store.engine import Store
from legato.store.schema_automation import daemons

log = logging.getLogger("legato.daemon")
PRESENCE_CLASS = 7786  # the first key of every presence lock


class Presence:
    """Hold this daemon's presence lock; ``hold()`` (re)takes it after a lost connection."""

    def __init__(self, store: Store, daemon_id: str) -> None:
        self.store = store
        self.daemon_id = daemon_id
        self._conn: Any = None

    def hold(self) -> bool:
        """Whether the lock is held now (taken again if its connection was lost)."""
        if self.store.is_sqlite:
            return False
        if self._conn is not None and not (self._conn.closed or self._conn.broken):
            return True
        import psycopg

        self.close()
        url = self.store.engine.url.set(drivername="postgresql")
        try:
            self._conn = psycopg.connect(
                url.render_as_string(hide_password=False), autocommit=True, connect_timeout=5
            )
            self._conn.execute(  # the keys ``gone_owner`` looks for
                "SELECT pg_advisory_lock(%s, hashtext(current_schema() || ':' || %s))",
                (PRESENCE_CLASS, self.daemon_id),
            )
        except psycopg.Error as exc:  # the database is away: leases cover us meanwhile
            log.warning("presence lock not held: %s", exc)
            self.close()
            return False
        return True

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def gone_owner(owner: Any) -> ColumnElement[bool]:
    """SQL (PostgreSQL): ``owner`` is a daemon recorded dead, or recorded running while nobody
    holds its presence lock: dead whatever its leases say."""
    unheld = text(
        "NOT EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory'"
        " AND l.classid = :presence_class AND l.objsubid = 2"
        " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND l.objid::int8 = (hashtext(current_schema() || ':' || known.daemon_id)::int8"
        " & 4294967295))"
    ).bindparams(presence_class=PRESENCE_CLASS)
    known = daemons.alias("known")  # an alias: the outer query may be on daemons itself
    return exists(
        select(known.c.daemon_id).where(
            known.c.daemon_id == owner,
            or_(known.c.status == "dead", and_(known.c.status == "running", unheld)),
        )
    )
