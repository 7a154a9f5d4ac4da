"""Fixtures for the web tests: an app over the parametrized store, users of each role, history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import web_ops_sample
import web_sample as sample
from web_helpers import PASSWORDS, Client, Seeded, login, record_definitions, remote_client

import legato as lg
from legato.store.engine import Store
from legato.web import accounts
from legato.web.app import create_app

ROLES = {"ada": "admin", "otto": "operator", "vera": "viewer"}


@pytest.fixture
def seeded(store: Store) -> Seeded:
    """Definitions plus two real runs: the sales chain (succeeded) and ``broken`` (failed)."""
    record_definitions(store, sample.project())
    ok = lg.materialize(sample.STEPS, selection="group:sales", store=store)
    failed = lg.materialize(sample.STEPS, selection="broken", store=store, raise_on_error=False)
    return Seeded(store, ok.run_id, failed.run_id)


@pytest.fixture
def ops(store: Store, tmp_path: Path) -> web_ops_sample.Ops:
    """Partitioned assets with some keys materialized (one failed), a dynamic set, triggers with
    ticks from the daemon on a virtual clock, and two backfills (one failed part-way)."""
    return web_ops_sample.seed(store, tmp_path / "ops-storage")


@pytest.fixture
def users(store: Store) -> dict[str, str]:
    for name, role in ROLES.items():
        accounts.add_user(store, name, role, PASSWORDS[name])
    return dict(ROLES)


@pytest.fixture
def app(store: Store):  # type: ignore[no-untyped-def]
    return create_app(store)


@pytest.fixture
def clients(app, users) -> Iterator[dict[str, Client]]:  # type: ignore[no-untyped-def]
    """A logged-in remote client per role, plus ``anon``."""
    out = {name: login(remote_client(app), name, PASSWORDS[name]) for name in users}
    out["anon"] = remote_client(app)
    yield {ROLES.get(k, k): v for k, v in out.items()}
    for client in out.values():
        client.close()


@pytest.fixture
def storage(tmp_path: Path) -> Path:
    return tmp_path / "storage"
