"""The daemon deletes old runs by each pipeline's retention policy (the project's default for the
rest), a little per iteration, and deletes nothing while the definitions have errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

import legato as lg
from legato.events.status import RunStatus
from legato.graph.snapshot import ErrorSnapshot
from legato.store.engine import Store
from legato.store.runs import RunRecord, create_run, list_runs
from legato.store.snapshots import latest_snapshot, save_snapshot
from legato.testing import VirtualDaemon

START = datetime(2025, 6, 1, tzinfo=UTC)


@lg.task
def job() -> None:
    return None


def _old_runs(store: Store, ages: dict[str, tuple[str | None, float]]) -> None:
    for run_id, (pipeline, days) in ages.items():
        created = (START - timedelta(days=days)).timestamp()
        create_run(store, RunRecord(run_id, "job", RunStatus.SUCCEEDED, created, pipeline=pipeline))


def _daemon(store: Store) -> VirtualDaemon:
    pipelines = [
        lg.Pipeline("short", select="job", retention=lg.Retention(days=1)),
        lg.Pipeline("archive", select="job", retention=lg.Retention()),
        lg.Pipeline("plain", select="job"),
    ]
    return VirtualDaemon(
        pipelines, steps=[job], start=START, store=store, retention=lg.Retention(days=7)
    )


def _remaining(store: Store) -> set[str]:
    return {r.run_id for r in list_runs(store, limit=100)}


def test_the_daemon_deletes_what_each_policy_no_longer_keeps(store: Store):
    daemon = _daemon(store)
    _old_runs(
        store,
        {
            "short_2d": ("short", 2),
            "short_now": ("short", 0.5),
            "archive_90d": ("archive", 90),
            "plain_10d": ("plain", 10),
            "plain_3d": ("plain", 3),
            "adhoc_10d": (None, 10),
        },
    )
    for _ in range(100):  # a pass spends a fraction of a second per iteration at most
        daemon.tick()
        if _remaining(store) == {"short_now", "archive_90d", "plain_3d"}:
            break
    assert _remaining(store) == {"short_now", "archive_90d", "plain_3d"}
    assert daemon.daemon.status()["loops"]["retention"]["last_ok"]


def test_nothing_is_deleted_while_the_definitions_have_errors(store: Store):
    daemon = _daemon(store)
    daemon.tick()  # records the definitions
    recorded = latest_snapshot(store)
    assert recorded is not None
    failed = ErrorSnapshot(message="a file failed to load")
    save_snapshot(store, msgspec.structs.replace(recorded, errors=[failed]))
    _old_runs(store, {"adhoc_10d": (None, 10)})
    daemon.clock.set(START + timedelta(hours=1))  # the next pass is due
    daemon.tick()
    assert _remaining(store) == {"adhoc_10d"}
