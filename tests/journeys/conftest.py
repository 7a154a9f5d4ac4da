"""Journeys run on both stores: the embedded default (SQLite) and PostgreSQL (a fresh schema)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from journey import Journey


@pytest.fixture(params=["sqlite", "postgres"])
def journey(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Journey]:
    """A project directory on one backend; every process it starts is reaped afterwards."""
    url = None if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    j = Journey(tmp_path, request.param, url)  # PostgreSQL: the schema is dropped after close
    try:
        yield j
    finally:
        j.close()
