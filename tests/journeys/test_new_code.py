"""New code reaches a running daemon without a restart: a module added under the config's
``paths``, and a pipeline added to an edited module, get their triggers evaluated and their runs
executed by the daemon that was already running. A new ``OnUpdate(since="all")`` asset in the
added module catches up on the upstream partitions materialized before it existed."""

from __future__ import annotations

from journey import Journey, wait_until
from sqlalchemy import select

from legato.store.schema import runs

FIRST = """
    import legato as lg

    @lg.asset
    def first() -> int:
        return 1

    @lg.asset(partitions=lg.DailyPartitions(start="2025-01-01"))
    def events(context) -> int:
        return int(context.partition_key[-2:])
"""

ADDED = """
    import legato as lg

    @lg.asset
    def added() -> int:
        return 2

    every_second = lg.Pipeline("every_second", select="added", triggers=[lg.Every(1)])

    @lg.asset(
        partitions=lg.DailyPartitions(start="2025-01-01"),
        triggers=[lg.OnUpdate(since="all")],
    )
    def doubled(events: int) -> int:
        return events * 2
"""

DAYS = ["2025-01-01", "2025-01-02", "2025-01-03"]


def _runs(journey: Journey, pipeline: str) -> list[str]:
    with journey.store().read() as conn:
        query = select(runs.c.status).where(runs.c.pipeline == pipeline)
        return [str(s) for s in conn.execute(query).scalars()]


def _partitions_run(journey: Journey, pipeline: str) -> list[tuple[str, str]]:
    with journey.store().read() as conn:
        query = select(runs.c.partition, runs.c.status).where(runs.c.pipeline == pipeline)
        return sorted((str(p), str(s)) for p, s in conn.execute(query))


def _snapshot_has(journey: Journey, node: str) -> bool:
    from legato.store.snapshots import latest_snapshot

    snap = latest_snapshot(journey.store())
    return snap is not None and node in snap.node_index


def test_a_module_added_to_a_running_project_is_picked_up(journey: Journey) -> None:
    journey.write({"flows/first.py": FIRST}, config='paths = ["flows"]\n')
    daemon = journey.daemon()
    wait_until(lambda: _snapshot_has(journey, "first"), what="the daemon to record the project")
    journey.ok("run", "events", "--from", DAYS[0], "--to", DAYS[-1])  # before doubled exists
    wait_until(lambda: "daemon" in daemon.output(), what="the daemon to start")

    (journey.dir / "flows" / "added.py").write_text(ADDED.replace("\n    ", "\n"))
    # The daemon's next snapshot (every 10 s) sees the new module's pipelines and triggers, and
    # its run workers load the new code before the runs they execute.
    wait_until(
        lambda: "succeeded" in _runs(journey, "every_second"),
        timeout=90,
        what="a run of the added pipeline to succeed",
    )

    # doubled's OnUpdate looks first after it was added, and catches up on every events
    # partition already there: one run each.
    def caught_up() -> bool:
        done = _partitions_run(journey, "doubled")
        return len(done) >= len(DAYS) and all(status == "succeeded" for _, status in done)

    wait_until(
        caught_up,
        timeout=60,
        what="the added OnUpdate asset to catch up on the existing upstream partitions",
    )
    assert _partitions_run(journey, "doubled") == [(day, "succeeded") for day in DAYS]
    assert daemon.alive(), daemon.output()
