"""Fixtures for scale-out tests: a PostgreSQL schema shared by a module's tests, real
``legato worker`` processes serving it, and a Dask LocalCluster."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scaleout_support import PROJECT, PgSchema, WorkerProcess, start_workers

from legato.store.engine import Store

if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))


@pytest.fixture(scope="module")
def pg_schema(postgres_url: str) -> Iterator[PgSchema]:
    import psycopg

    name = f"legato_scaleout_{secrets.token_hex(5)}"
    plain = postgres_url.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
        conn.execute(
            f'CREATE TABLE "{name}".side_effects '
            "(run_id text, step_key text, attempt int, pid int, ts timestamptz DEFAULT now())"
        )
    sep = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{sep}options=-csearch_path%3D{name}"
    store = Store(url)
    try:
        yield PgSchema(store, url, url.replace("+psycopg", ""))
    finally:
        store.dispose()
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{name}" CASCADE')


@pytest.fixture(scope="module")
def shared_storage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shared") / "storage"


@pytest.fixture(scope="module")
def remote_workers(pg_schema: PgSchema, shared_storage: Path) -> Iterator[list[WorkerProcess]]:
    """Two workers with two slots each on queue ``conformance``."""
    procs = start_workers(
        pg_schema, shared_storage, "conformance", 2, "--concurrency", "2", "--lease", "3",
        "--poll-interval", "0.2",
    )  # fmt: skip
    yield procs
    for proc in procs:
        proc.stop()


@pytest.fixture(scope="module")
def dask_cluster() -> Iterator[Any]:
    pytest.importorskip("distributed")
    from legato.execution.executors.dask import start_local_cluster

    cluster = start_local_cluster(n_workers=2, threads_per_worker=2)
    yield cluster
    cluster.close()
