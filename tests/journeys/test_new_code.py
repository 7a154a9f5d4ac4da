"""New code reaches a running daemon without a restart: a module added under the config's
``paths``, and a pipeline added to an edited module, get their triggers evaluated and their runs
executed by the daemon that was already running."""

from __future__ import annotations

from journey import Journey, wait_until
from sqlalchemy import select

from legato.store.schema import runs

FIRST = """
    import legato as lg

    @lg.asset
    def first() -> int:
        return 1
"""

ADDED = """
    import legato as lg

    @lg.asset
    def added() -> int:
        return 2

    every_second = lg.Pipeline("every_second", select="added", triggers=[lg.Every(1)])
"""


def _runs(journey: Journey, pipeline: str) -> list[str]:
    with journey.store().read() as conn:
        query = select(runs.c.status).where(runs.c.pipeline == pipeline)
        return [str(s) for s in conn.execute(query).scalars()]


def _snapshot_has(journey: Journey, node: str) -> bool:
    from legato.store.snapshots import latest_snapshot

    snap = latest_snapshot(journey.store())
    return snap is not None and node in snap.node_index


def test_a_module_added_to_a_running_project_is_picked_up(journey: Journey) -> None:
    journey.write({"flows/first.py": FIRST}, config='paths = ["flows"]\n')
    daemon = journey.daemon()
    wait_until(lambda: _snapshot_has(journey, "first"), what="the daemon to record the project")
    assert "first" in journey.ok("assets").stdout
    wait_until(lambda: "daemon" in daemon.output(), what="the daemon to start")

    (journey.dir / "flows" / "added.py").write_text(ADDED.replace("\n    ", "\n"))
    # The daemon's next snapshot (every 10 s) sees the new module's pipeline and its trigger,
    # and its run workers load the new code before the runs they execute.
    wait_until(
        lambda: "succeeded" in _runs(journey, "every_second"),
        timeout=90,
        what="a run of the added pipeline to succeed",
    )
    assert daemon.alive(), daemon.output()
