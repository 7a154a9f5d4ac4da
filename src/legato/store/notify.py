"""Wake-ups through PostgreSQL ``LISTEN``/``NOTIFY``: a writer notifies inside its transaction (the
notification is delivered on commit, never for a rolled-back write); a waiting party listens on a
dedicated connection whose socket it can ``select`` on. SQLite has no such channel: there, waiting
parties poll, cheaply: ``PRAGMA data_version`` says whether anything was committed since.
``Changes`` waits for either, whichever the store is.
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, text

from legato.errors import StoreError
from legato.store.engine import Store

RUN_QUEUED_CHANNEL = "legato_run_queued"  # payload: empty (a run was queued)
RUN_FINISHED_CHANNEL = "legato_run_finished"  # payload: the run id (it succeeded, failed, ...)


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


class Changes:
    """Wait for a notification on ``channel`` (PostgreSQL), or for any commit by another
    connection (a SQLite file, probed every ``probe`` s). Where neither works (an in-memory
    store, a listener that cannot connect) a wait simply lasts ``probe``, so that the caller
    looks again: a wake-up may come early or for something else, never later than that."""

    def __init__(self, store: Store, channel: str, *, probe: float = 0.01) -> None:
        self.store, self.channel, self.probe = store, channel, probe
        self._listener: Listener | None = None
        self._sqlite: SqliteChanges | None = None
        self._retry_at = 0.0
        if store.is_sqlite:
            try:
                self._sqlite = SqliteChanges(store)
            except StoreError:
                self._sqlite = None
        else:
            self._connect()

    def _connect(self) -> None:
        try:
            self._listener = Listener(self.store, self.channel)
        except Exception:  # the database is away: probe, and listen again in a second
            self._listener = None
            self._retry_at = time.monotonic() + 1.0

    def wait(self, timeout: float) -> bool:
        """True when something changed within ``timeout`` s (or may have: see the class)."""
        if self._sqlite is not None:
            deadline = time.monotonic() + timeout
            while not self._sqlite.changed():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(self.probe, left))
            return True
        if self._listener is not None and self._listener.broken:
            self._listener.close()
            self._connect()
        if self._listener is None:
            if not self.store.is_sqlite and time.monotonic() >= self._retry_at:
                self._connect()
            time.sleep(min(self.probe, timeout))
            return True
        try:
            return bool(self._listener.wait(timeout))
        except StoreError:
            self._listener.close()
            self._listener = None
            self._retry_at = time.monotonic() + 1.0
            return True

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
        if self._sqlite is not None:
            self._sqlite.close()
