"""A daemon that lost a trigger's lease mid-evaluation writes nothing for it: not its ticks, and
not the trigger's progress. Otherwise it could move ``last_tick`` past ticks it was fenced from
recording while the new owner died, and those ticks would never run (a gap)."""

import itertools
from datetime import UTC, datetime, timedelta

import legato as lg
from legato.automation.ticks import evaluate_schedule
from legato.store.automation import claim_triggers, list_ticks, list_triggers
from legato.store.snapshots import latest_snapshot
from legato.testing import VirtualDaemon


def test_a_fenced_daemon_cannot_skip_ticks_the_new_owner_never_recorded():
    @lg.task
    def job() -> None:
        return None

    every = lg.Pipeline(
        "every",
        select="job",
        triggers=[lg.Every(1, catch_up=lg.CatchUp.all(within=timedelta(minutes=5)))],
    )
    daemon = VirtualDaemon([every], steps=[job], start=datetime(2025, 1, 1, tzinfo=UTC))
    daemon.advance(seconds=3)
    store = daemon.store
    start = daemon.clock.now().timestamp() + 60  # past the virtual daemon's own lease
    [seen_by_a] = claim_triggers(store, "A", now=start + 2.5, lease=2.0)  # A reads, then stalls
    assert claim_triggers(store, "B", now=start + 5.0, lease=2.0)  # B takes over, then dies
    snap = latest_snapshot(store)
    assert snap is not None
    pipeline, nodes = snap.pipeline_index["every"], snap.node_index
    a_now = datetime.fromtimestamp(start + 2.5, UTC)
    assert evaluate_schedule(store, seen_by_a, pipeline, nodes, a_now, owner="A") == []
    [trigger] = list_triggers(store)
    assert trigger.last_tick == seen_by_a.last_tick  # A moved nothing on

    [seen_by_c] = claim_triggers(store, "C", now=start + 8.0, lease=2.0)  # after B's lease
    c_now = datetime.fromtimestamp(start + 8.0, UTC)
    assert evaluate_schedule(store, seen_by_c, pipeline, nodes, c_now, owner="C")
    times = sorted(datetime.fromisoformat(t.tick_key) for t in list_ticks(store, limit=100))
    gaps = [(a, b) for a, b in itertools.pairwise(times) if b - a != timedelta(seconds=1)]
    assert not gaps and times[-1] == c_now.replace(microsecond=0)
