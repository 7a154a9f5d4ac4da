"""Journeys run on both stores: the embedded default (SQLite) and PostgreSQL (a fresh schema)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from journey import Journey


@pytest.fixture(params=["sqlite", "postgres"])
def journey(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journey]:
    """A project directory on one backend; every process it starts is reaped afterwards."""
    if request.param == "sqlite":
        j = Journey(tmp_path, "sqlite", None)
        try:
            yield j
        finally:
            j.close()
        return
    import psycopg

    postgres_url: str = request.getfixturevalue("postgres_url")
    plain = postgres_url.replace("+psycopg", "")
    schema = f"legato_journey_{secrets.token_hex(6)}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in postgres_url else "?"
    j = Journey(tmp_path, "postgres", f"{postgres_url}{sep}options=-csearch_path%3D{schema}")
    try:
        yield j
    finally:
        j.close()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
