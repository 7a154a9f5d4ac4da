"""Fixtures of the store's tests: empty stores on both backends, at any schema revision."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from migrated import EmptyStores


@pytest.fixture(params=["sqlite", "postgres"])
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmptyStores]:
    """Makes URLs of empty stores: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield lambda: f"sqlite:///{tmp_path}/{secrets.token_hex(4)}.db"
        return
    import psycopg

    postgres_url: str = request.getfixturevalue("postgres_url")
    plain = postgres_url.replace("+psycopg", "")
    schemas: list[str] = []

    def make() -> str:
        schemas.append(f"legato_mig_{secrets.token_hex(6)}")
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schemas[-1]}"')
        sep = "&" if "?" in postgres_url else "?"
        return f"{postgres_url}{sep}options=-csearch_path%3D{schemas[-1]}"

    yield make
    with psycopg.connect(plain, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
