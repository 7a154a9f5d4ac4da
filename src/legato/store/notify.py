"""Wake-ups through PostgreSQL ``LISTEN``/``NOTIFY``: a writer notifies inside its transaction (the
notification is delivered on commit, never for a rolled-back write); a waiting party listens on a
dedicated connection whose socket it can ``select`` on. SQLite has no such channel: there, waiting
parties poll.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from legato.errors import StoreError
from legato.store.engine import Store

RUN_QUEUED_CHANNEL = "legato_run_queued"  # payload: empty (a run was queued)


def require_postgres(store: Store, what: str) -> None:
    """Refuse a SQLite store for what needs row locks or notifications that SQLite does not have."""
    if store.is_sqlite:
        raise StoreError(
            f"{what} needs a PostgreSQL store, but {store!r} is SQLite",
            obj=str(store.engine.url),
            hint="set LEGATO_DATABASE_URL=postgresql://user@host/db for the engine and every "
            "worker, or use the process executor on one machine",
        )


def notify(conn: Connection, channel: str, payload: str = "") -> None:
    """Notify ``channel`` when the caller's transaction commits (nothing on SQLite)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": channel, "p": payload})


class Listener:
    """A dedicated PostgreSQL connection that ``LISTEN``s on channels; ``fileno`` is selectable."""

    def __init__(self, store: Store, *channels: str) -> None:
        import psycopg

        require_postgres(store, "listening for notifications")
        url = store.engine.url.set(drivername="postgresql")
        self._url = url.render_as_string(hide_password=True)
        self._conn = psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)
        for channel in channels:
            self._conn.execute(f"LISTEN {channel}")  # constant names, never user input

    @property
    def broken(self) -> bool:
        """The connection was lost (the server restarted): close this listener, open another."""
        return bool(self._conn.closed or self._conn.broken)

    def fileno(self) -> int:
        return self._conn.fileno()

    def wait(self, timeout: float) -> list[str]:
        """Payloads that arrive within ``timeout`` s (returns at the first batch)."""
        got = self._notifies(max(0.0, timeout), stop_after=1)
        return got + self.drain() if got else got

    def drain(self) -> list[str]:
        return self._notifies(0)

    def _notifies(self, timeout: float, stop_after: int | None = None) -> list[str]:
        import psycopg

        try:
            return [n.payload for n in self._conn.notifies(timeout=timeout, stop_after=stop_after)]
        except psycopg.Error as exc:
            raise StoreError(
                f"the notification connection to {self._url} was lost: {exc}",
                hint="it is reopened once the database answers again",
            ) from exc

    def close(self) -> None:
        self._conn.close()


class SqliteChanges:
    """SQLite's substitute for a notification: ``PRAGMA data_version`` on a connection of its own
    changes when another connection commits, so a poller learns in microseconds whether anything
    was written since its last look, and runs its real queries only then."""

    def __init__(self, store: Store) -> None:
        import sqlite3

        database = store.engine.url.database
        if not store.is_sqlite or not database or database == ":memory:":
            raise StoreError(f"{store!r} is not a SQLite file", hint="use a Listener instead")
        self._conn = sqlite3.connect(database, check_same_thread=False)
        self._version: int | None = None

    def changed(self) -> bool:
        """Whether another connection committed since the last call (True the first time)."""
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        changed, self._version = version != self._version, version
        return bool(changed)

    def close(self) -> None:
        self._conn.close()
