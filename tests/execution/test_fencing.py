"""A step attempt whose run was taken over by another process never publishes its value: values
are staged under the attempt and put in place by the engine that holds the run."""

from __future__ import annotations

import os
import threading
import time

import pytest

import legato as lg
from legato.definitions.io import IOContext
from legato.definitions.keys import StepKey
from legato.errors import PartitionError
from legato.execution.executors.inprocess import InProcessExecutor
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


def test_publishing_removes_a_value_of_another_format_unless_none_can_be_there(tmp_path):
    """A task's first attempt is the first value at its place in the run; a later attempt (the
    run resumed after the first was published) or an asset (its place outlives runs) may find
    one of another format, which must not shadow the new value."""
    io = FilesystemIOManager(tmp_path)
    result = IOContext(StepKey("report"), "run1")
    asset = IOContext(StepKey("orders"), "run1", "orders")
    for context, first in ((result, False), (asset, True)):
        place = tmp_path / ("runs/run1/report" if context is result else "assets/orders/__all__")
        place.parent.mkdir(parents=True, exist_ok=True)
        old = place.with_name(place.name + ".pandas.parquet")
        old.write_bytes(b"an earlier value")
        io.publish(io.stage(context, "new", f"run1-{1 if first else 2}"), first_attempt=first)
        assert not old.exists() and io.load(context) == "new"


def test_a_staged_value_whose_directory_leads_out_of_the_root_is_not_published(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    outside.mkdir()
    (outside / ".staged-r-1-x.pkl").write_bytes(b"x")
    root.mkdir()
    (root / "runs").symlink_to(outside)
    with pytest.raises(PartitionError):
        FilesystemIOManager(root).publish(
            {"path": str(root / "runs" / "x.pkl"), "staged": "runs/.staged-r-1-x.pkl"}
        )
    assert (outside / ".staged-r-1-x.pkl").exists() and not (outside / "x.pkl").exists()


def test_a_run_log_whose_directory_leads_out_of_the_root_is_not_written(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    outside.mkdir()
    root.mkdir()
    (root / "runs").symlink_to(outside)
    io = FilesystemIOManager(root)
    staged = io.stage(IOContext(StepKey("report"), "run1"), "value", "run1-1", inline=1024)
    with pytest.raises(PartitionError, match="leads out of"):
        io.append_results("run1", [(StepKey("report"), staged["inline"])])
    assert list(outside.iterdir()) == []  # not even the run's directory


def test_the_same_attempt_staged_twice_leaves_one_whole_value(tmp_path):
    """An executor may run an attempt again (a Dask worker lost): the second value replaces the
    first whole."""
    io = FilesystemIOManager(tmp_path)
    context = IOContext(StepKey("report"), "run1")
    io.stage(context, "first", "run1-1")
    io.publish(io.stage(context, "second", "run1-1"), first_attempt=True)
    assert io.load(context) == "second" and not list(tmp_path.rglob(".*-report.pkl"))


def test_the_engine_publishes_a_first_attempt_as_such(tmp_path, monkeypatch):
    """Results too large to come back inline are files, staged and published by the engine."""
    monkeypatch.setattr(InProcessExecutor, "inline_results", 0)
    seen: dict[str, bool] = {}
    real = FilesystemIOManager.publish

    def publish(self, metadata, *, first_attempt=False):
        seen[os.path.basename(metadata["path"])] = first_attempt
        return real(self, metadata, first_attempt=first_attempt)

    monkeypatch.setattr(FilesystemIOManager, "publish", publish)
    marker = tmp_path / "tried"

    @lg.task(retries=lg.Retry(2, delay=0, jitter=0))
    def flaky() -> int:
        if not marker.exists():
            marker.write_text("once")
            raise ConnectionError("not yet")
        return 1

    @lg.task
    def steady() -> int:
        return 2

    result = lg.materialize([flaky, steady], executor="inprocess", storage=tmp_path / "s")
    assert result.success
    assert seen == {"flaky.pkl": False, "steady.pkl": True}
