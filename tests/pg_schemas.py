"""PostgreSQL schemas for tests: fresh ones, and migrated ones reused after a reset.

Creating a store's schema costs about 0.15 s of CPU, most of it the server's DDL (some fifty
tables and their indexes), and dropping it again costs as much; emptying one
costs a fraction of that. So a store test (``pg_store``) gets a migrated schema that an earlier
test of the same pytest process used, emptied, when one is left; tests that start Legato's
own processes on a new database (``pg_schema_url``) still get an empty schema of their own.

A schema is reused only when nothing of the test can reach it any more and it is as the
migrations built it: no connection is still open on it (each connection names its schema as
its ``application_name``), it is at the revision it was made at, and its columns, indexes and
constraints are unchanged. Otherwise it is dropped, as before.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class _Schema:
    name: str
    fingerprint: str  # of its definition, taken when its store was first opened


_reusable: list[_Schema] = []  # schemas of this test process, emptied, ready for the next test

_FINGERPRINT = """
SELECT md5(string_agg(part, ',' ORDER BY part)) FROM (
    SELECT c.relname || ' ' || c.relkind::text || ' ' || a.attname || ' '
           || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull AS part
    FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
    WHERE c.relnamespace = %(schema)s::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relnamespace = %(schema)s::regnamespace
    UNION ALL
    SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
    WHERE connamespace = %(schema)s::regnamespace
    UNION ALL
    SELECT 'revision ' || version_num FROM {schema}.alembic_version
) AS parts
"""


def _plain(postgres_url: str) -> str:
    return postgres_url.replace("+psycopg", "")


def _url(postgres_url: str, schema: str) -> str:
    sep = "&" if "?" in postgres_url else "?"
    return f"{postgres_url}{sep}options=-csearch_path%3D{schema}&application_name={schema}"


def _create(postgres_url: str) -> str:
    """A new, empty schema's name."""
    schema = f"legato_test_{secrets.token_hex(6)}"
    with psycopg.connect(_plain(postgres_url), autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return schema


def fresh_schema(postgres_url: str) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL schema (on the search path), dropped afterwards."""
    schema = _create(postgres_url)
    try:
        yield _url(postgres_url, schema)
    finally:
        _drop(postgres_url, schema)


class StoreSchema:
    """A schema for one store test: an emptied one of an earlier test, or a new one."""

    def __init__(self, postgres_url: str) -> None:
        self.postgres_url = postgres_url
        self.schema = _reusable.pop() if _reusable else None
        self.name = _create(postgres_url) if self.schema is None else self.schema.name
        self.url = _url(postgres_url, self.name)

    def opened(self) -> None:
        """The store is open on it: a new schema now has the tables a reused one must keep."""
        if self.schema is None:
            with psycopg.connect(_plain(self.postgres_url), autocommit=True) as conn:
                fingerprint = _fingerprint(conn, self.name)
            if fingerprint is not None:  # else nothing to keep: released, it is dropped
                self.schema = _Schema(self.name, fingerprint)

    def release(self) -> None:
        """After the test, once its store let go: keep the schema emptied, or drop it."""
        if self.schema is not None and _reset(self.postgres_url, self.schema):
            _reusable.append(self.schema)
        else:
            _drop(self.postgres_url, self.name)


def _fingerprint(conn: psycopg.Connection, schema: str) -> str | None:
    """The fingerprint of ``schema``'s definition (None if it has none left to take)."""
    query = sql.SQL(_FINGERPRINT).format(schema=sql.Identifier(schema))
    row = conn.execute(query, {"schema": schema}).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def _reset(postgres_url: str, schema: _Schema) -> bool:
    """Empty the schema for the next test, if it can be reused; False if it cannot.

    Rows are deleted rather than truncated: ``TRUNCATE`` gives each table and index a new file,
    0.8 s for the store's tables on this kind of machine, against 0.05 s to delete the few rows
    a test writes. Foreign keys are not checked meanwhile (every row goes)."""
    name = schema.name
    try:
        with psycopg.connect(_plain(postgres_url)) as conn:
            conn.execute("SET LOCAL lock_timeout = '2s'")
            others = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchone()
            if others is None or others[0] != 0:
                return False
            if _fingerprint(conn, name) != schema.fingerprint:
                return False
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = %s "
                "AND tablename <> 'alembic_version'",
                (name,),
            ).fetchall()
            sequences = conn.execute(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = %s", (name,)
            ).fetchall()
            conn.execute("SET LOCAL session_replication_role = replica")
            statements = [
                sql.SQL("DELETE FROM {}").format(sql.Identifier(name, table)) for (table,) in tables
            ]
            statements += [
                sql.SQL("ALTER SEQUENCE {} RESTART").format(sql.Identifier(name, sequence))
                for (sequence,) in sequences
            ]
            conn.execute(sql.SQL("; ").join(statements))
        return True
    except psycopg.Error:
        return False


def _drop(postgres_url: str, schema: str) -> None:
    with psycopg.connect(_plain(postgres_url), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def drop_reusable(postgres_url: str) -> None:
    """Drop this process's emptied schemas (at the end of the session)."""
    while _reusable:
        _drop(postgres_url, _reusable.pop().name)
