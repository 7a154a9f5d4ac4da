"""A recorded definitions snapshot the daemon cannot read (written by another Legato, say): each
loop that needs the definitions says which snapshot and which field, the daemon keeps running,
and definitions recorded again bring it back."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

import legato as lg
from legato._internal.clock import FakeClock
from legato.automation.code import InProcessCode
from legato.automation.daemon import Daemon
from legato.definitions.project import Project
from legato.store import schema
from legato.store.engine import Store
from legato.store.runs import list_runs
from legato.store.snapshots import save_snapshot
from legato.testing import VirtualDaemon

START = datetime(2025, 1, 1, tzinfo=UTC)


@lg.task
def job() -> None:
    return None


HOURLY = lg.Pipeline("hourly", select="job", triggers=[lg.Cron("0 * * * *")])


def _unreadable(store: Store) -> int:
    """A snapshot row whose node has no kind, as no Legato of this version writes it."""
    with store.transaction() as conn:
        return int(
            conn.execute(
                insert(schema.snapshots)
                .values(
                    location="default",
                    created_at=time.time(),
                    fingerprint="from-another-legato",
                    data={"nodes": [{"key": "job"}], "pipelines": []},
                )
                .returning(schema.snapshots.c.id)
            ).scalar_one()
        )


def test_the_daemon_names_the_unreadable_snapshot_keeps_running_and_recovers(store: Store):
    daemon = VirtualDaemon([HOURLY], steps=[job], start=START, store=store)
    daemon.tick()  # definitions recorded once; this daemon does not record them again
    bad_id = _unreadable(store)
    report = daemon.tick()
    said = f"definitions snapshot {bad_id} of the project cannot be read by this Legato"
    failed = {e.split(":", 1)[0] for e in report.errors if said in e}
    assert {"_evaluate_triggers", "_consumers"} <= failed  # those that look every iteration
    assert all("missing required field `kind`" in e for e in report.errors if said in e)
    status = daemon.daemon.status()
    assert status["state"] == "degraded" and "evaluate_triggers" in status["failing"]
    assert status["loops"]["heartbeat"]["last_error"] is None  # the rest goes on
    assert said in status["loops"]["evaluate_triggers"]["last_error"]

    save_snapshot(store, InProcessCode(daemon.project, store).snapshot())  # recorded again
    runs = daemon.advance(hours=1)
    assert [r.pipeline for r in runs] == ["hourly"]
    assert daemon.daemon.status()["state"] == "running"


def test_a_daemon_that_loads_the_project_records_readable_definitions_over_it(store: Store):
    _unreadable(store)
    clock = FakeClock(START)
    project = Project.of([job], [HOURLY])
    daemon = Daemon(store, code=InProcessCode(project, store), clock=clock, launch_runs=False)
    try:
        assert daemon.tick_once().errors == []  # its first look records the project's
        clock.set(START + timedelta(hours=1))
        assert daemon.tick_once().runs_requested
        assert [r.pipeline for r in list_runs(store)] == ["hourly"]
    finally:
        daemon.stop()
