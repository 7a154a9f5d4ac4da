"""The store handle: URL → SQLAlchemy engine, SQLite pragmas, schema creation under a lock, one
writer path."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, select, text
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from legato._internal import secrets
from legato._internal.private import create_private_file, make_private_dirs
from legato.errors import StoreError
from legato.store.schema import HEAD_REVISION, add_postgresql_options, metadata

PING_AFTER_IDLE = 1.0  # seconds a pooled PostgreSQL connection may idle before it is pinged
# How hard a store holds on to what it is told (the ``durability`` setting):
# - "normal": a run's engine commits the state changes of one loop iteration together (a wave of
#   steps started, the results that came in meanwhile); SQLite runs with ``synchronous=NORMAL``
#   under WAL, so a commit survives the process dying but the last ones may be lost if the
#   machine loses power (the database stays consistent).
# - "strict": the engine commits every state change on its own, and SQLite runs with
#   ``synchronous=FULL``, so each commit is fsynced before it returns. PostgreSQL fsyncs every
#   commit with its own default (``synchronous_commit=on``); there "strict" changes only how often
#   the engine commits.
DURABILITY = ("normal", "strict")


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs; pass others through."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Store:
    """A connection to the store. Writes go through :meth:`transaction`, reads through :meth:`read`.

    On SQLite a process-wide lock makes the process a single writer, and ``BEGIN IMMEDIATE`` plus a
    busy timeout queue writers of other processes, so "database is locked" never reaches a user.
    PostgreSQL takes writers of one process as it takes those of several (row locks, MVCC): there
    the threads of a process write at once (four threads' short transactions took 1.13 s in
    turn, 0.31 s at once).
    """

    def __init__(self, url: str, *, create: bool = True, durability: str = "normal") -> None:
        if durability not in DURABILITY:
            raise StoreError(
                f"durability {durability!r} is not one of {', '.join(DURABILITY)}",
                hint='use durability = "normal" (the default) or "strict" (fsync every state '
                "change)",
            )
        self.url = normalize_url(url)
        self.durability = durability
        self.strict = durability == "strict"  # commit (and fsync) every state change on its own
        self.engine = _make_engine(self.url, synchronous="FULL" if self.strict else "NORMAL")
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._write_lock: AbstractContextManager[Any] = (
            threading.RLock() if self.is_sqlite else nullcontext()
        )
        if create:
            self.ensure_schema()

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction; commits on exit, rolls back on error."""
        with self._write_lock:
            try:
                with self.engine.begin() as conn:
                    yield conn
            except OperationalError as exc:
                raise StoreError(
                    f"the store at {self!r} failed a write: {exc.orig}",
                    hint="check that the database is reachable and not read-only",
                ) from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection (a consistent snapshot on SQLite WAL)."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(legato_read=True)
                yield conn
        except OperationalError as exc:
            raise StoreError(
                f"the store at {self!r} failed a read: {exc.orig}",
                hint="check that the database is reachable",
            ) from exc

    def revision(self) -> str | None:
        """The store's schema revision (an Alembic revision id); None while the store is empty."""
        try:
            with self.read() as conn:
                return current_revision(conn)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"cannot open the store at {self!r}: {exc}",
                hint="check LEGATO_DATABASE_URL and that the server is running",
            ) from exc

    def ensure_schema(self, *, upgrade: bool | None = None) -> str | None:
        """Bring the store to this Legato's schema; return the revision it was at (None: empty).

        An empty store is created. An older one is upgraded if ``upgrade``; by default only on
        SQLite (one project on one machine): a PostgreSQL store is shared by many processes,
        maybe of several Legato versions, so it changes only when asked (``legato db upgrade``).
        Both happen under the schema lock, and the revision is read again once the lock is held,
        so processes starting together on a new database create it once and never collide.
        """
        before = self.revision()
        if before == HEAD_REVISION:
            return before
        with self.schema_transaction() as conn:
            before = current_revision(conn)
            if before is None:
                _create_schema(conn)
            elif before != HEAD_REVISION:
                from legato.store.migrations.runner import migrate

                allowed = self.is_sqlite if upgrade is None else upgrade
                migrate(conn, before, where=repr(self), allowed=allowed)
        return before

    @contextmanager
    def schema_transaction(self) -> Iterator[Connection]:
        """A write transaction holding the store's schema lock, for creating or migrating it.

        On SQLite the write lock that ``BEGIN IMMEDIATE`` takes is that lock. On PostgreSQL it is
        a transaction-level advisory lock keyed on the schema the tables live in, so stores in
        other schemas of the same database don't wait; it is released at commit or rollback,
        and by the server if this process dies.
        """
        with self.transaction() as conn:
            if not self.is_sqlite:
                key = _schema_lock_key(conn)
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def current_revision(conn: Connection) -> str | None:
    """The revision recorded in ``alembic_version``; None if the store has no schema yet."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(select(text("version_num")).select_from(text("alembic_version"))).first()
    return None if row is None else str(row[0])


def _create_schema(conn: Connection) -> None:
    """Create every table of the current schema and stamp it with the head revision (the tables
    are those the migrations build: a test compares the two)."""
    metadata.create_all(conn)
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL, "
            "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"  # as Alembic makes it
        )
    )
    conn.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": HEAD_REVISION})


def _schema_lock_key(conn: Connection) -> int:
    """The advisory-lock key of the PostgreSQL schema that unqualified tables are created in."""
    schema = conn.execute(text("SELECT current_schema()")).scalar() or ""
    digest = hashlib.blake2b(f"legato.schema:{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # pg_advisory_xact_lock takes a bigint


def _mask_parameters(
    _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool
) -> tuple[str, Any]:
    """Mask secrets in every value written or compared, whichever process and code path it came
    from: a secret is never stored in clear (statements carry values as parameters only)."""
    if not secrets.active() or not parameters:
        return statement, parameters
    return statement, _masked(parameters)


_NESTED = (dict, list, tuple)
_MASKED = frozenset((str, dict, list, tuple))  # exact types worth a call; numbers, None, bytes not


def _masked(value: Any) -> Any:
    """``value`` (one parameter, a row of them or a list of rows: the shape depends on the
    driver and on batching, not on ``executemany``) with its strings masked. A batch holds
    thousands of values, so only strings and containers cost a call."""
    kind = type(value)
    if kind is str:
        return secrets.redact(value)
    if kind is dict:  # a row of named parameters
        return {k: _masked(v) if type(v) in _MASKED else v for k, v in value.items()}
    if kind is tuple or kind is list:  # a row of positional ones, or a batch of rows
        return kind([_masked(v) if type(v) in _MASKED else v for v in value])
    if isinstance(value, str):
        return secrets.redact(value)
    if isinstance(value, _NESTED):
        return type(value)(_masked(v) for v in value)
    return value


def _make_engine(url: str, synchronous: str) -> Engine:
    engine = _connect(url, synchronous)
    event.listen(engine, "before_cursor_execute", _mask_parameters, retval=True)
    return engine


def _connect(url: str, synchronous: str) -> Engine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path in ("", ":memory:"):
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            _create_database_file(path)
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
        engine = create_engine(url, **kwargs)
        _sqlite_pragmas(engine, synchronous)
        return engine
    if url.startswith("postgresql"):
        add_postgresql_options()
    engine = create_engine(url, pool_size=5, max_overflow=10)
    _ping_when_idle(engine, PING_AFTER_IDLE)
    return engine


def _create_database_file(path: str) -> None:
    """Create the SQLite file (and its directory) readable by its owner only, before SQLite
    opens it: SQLite creates the -wal and -shm files with the mode of the database file."""
    file = path.split("?", 1)[0]
    if file.startswith("file:"):  # a URI filename: SQLite's to interpret
        return
    make_private_dirs(Path(file).parent)
    create_private_file(Path(file))


def _ping_when_idle(engine: Engine, after: float) -> None:
    """Ping a pooled connection on checkout only if it sat idle ``after`` s or more.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: a round trip per store call, a tenth of
    the cost of a no-op run. A database restart takes seconds, so a connection that was used
    within the last second was alive then; one idle longer is pinged, and a dead one is replaced
    (raising ``DisconnectionError`` makes the pool retry the checkout with a new connection).
    """

    @event.listens_for(engine, "checkin")
    def _checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["legato_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("legato_idle_since")
        if since is None or time.monotonic() - since < after:
            return  # new, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # dead: the pool replaces it and checks out again
            raise DisconnectionError(f"stale pooled connection: {exc}") from exc


def _sqlite_pragmas(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # Writers take the lock up front (IMMEDIATE), so two writers never deadlock upgrading a
        # read lock; readers begin deferred and never block anyone under WAL.
        read = conn.get_execution_options().get("legato_read", False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")
