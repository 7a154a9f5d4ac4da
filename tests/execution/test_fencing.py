"""A step attempt whose run was taken over by another process never publishes its value: values
are staged under the attempt and put in place by the engine that holds the run."""

from __future__ import annotations

import threading
import time

import pytest

import legato as lg
from legato.definitions.io import IOContext
from legato.definitions.keys import StepKey
from legato.errors import PartitionError
from legato.execution.io.fs import FilesystemIOManager
from legato.store import schema
from legato.store.engine import Store
from legato.store.runs import list_runs
from polling import wait_for


def test_a_staged_value_is_invisible_until_published(tmp_path):
    io = FilesystemIOManager(tmp_path)
    context = IOContext(StepKey("orders"), "run1", "orders")
    io.store(context, "first")
    staged = io.stage(context, "second", "run2-1")
    assert io.load(context) == "first"
    published = io.publish(staged)
    assert "staged" not in published and io.load(context) == "second"
    assert not list(tmp_path.rglob(".staged-*"))


def test_publishing_refuses_a_path_outside_the_root(tmp_path):
    io = FilesystemIOManager(tmp_path / "root")
    outside = tmp_path / ".staged-x-secret.pkl"
    outside.write_bytes(b"x")
    with pytest.raises(PartitionError):
        io.publish({"path": str(tmp_path / "secret.pkl"), "staged": "../.staged-x-secret.pkl"})
    assert outside.exists()


def test_an_attempt_whose_run_was_taken_over_does_not_publish(tmp_path, monkeypatch):
    """The engine stopped renewing its lease (as if paused), another process took the run over
    once the lease expired; the first attempt's late value is never published."""
    monkeypatch.setattr("legato.execution.launcher.LEASE_SECONDS", 2.0)
    monkeypatch.setattr("legato.execution.run_watch.RunWatch._renew", lambda self: True)
    store = Store(f"sqlite:///{tmp_path}/legato.db")
    release = threading.Event()

    @lg.asset
    def orders() -> str:
        release.wait(30)
        return "stale"

    result: dict[str, object] = {}

    def run() -> None:
        result["run"] = lg.materialize(
            [orders],
            executor="threads",
            store=store,
            storage=tmp_path / "storage",
            raise_on_error=False,
        )

    thread = threading.Thread(target=run)
    thread.start()
    try:
        run_id = wait_for(lambda: [r.run_id for r in list_runs(store, limit=1)])[0]
        wait_for(lambda: list_runs(store, limit=1)[0].status.value == "running")
        wait_for(lambda: time.time() > _lease_until(store, run_id), timeout=10)
        with store.transaction() as conn:  # another launcher took the run over
            conn.execute(
                schema.runs.update()
                .where(schema.runs.c.run_id == run_id)
                .values(launcher="someone-else", lease_until=4_000_000_000)
            )
    finally:
        release.set()
        thread.join(30)
    assert not (tmp_path / "storage" / "assets" / "orders" / "__all__.pkl").exists()
    with store.read() as conn:
        kinds = [r.type for r in conn.execute(schema.events.select())]
    assert "materialized" not in kinds
    assert not list((tmp_path / "storage").rglob("__all__.pkl"))
    store.dispose()


def _lease_until(store: Store, run_id: str) -> float:
    with store.read() as conn:
        row = conn.execute(schema.runs.select().where(schema.runs.c.run_id == run_id)).one()
    return float(row.lease_until or 0)
