"""The daemon's main loop: a trigger that falls due while the loop's other jobs run is evaluated
before the next job, not at the next iteration; and no trigger waits for the code server to
describe the project."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import legato as lg
from legato.automation.code import InProcessCode
from legato.automation.daemon import Daemon
from legato.automation.tick_report import TickReport
from legato.definitions.project import Project
from legato.graph.snapshot import DefinitionsSnapshot
from legato.store.automation import list_ticks, sync_triggers
from legato.store.engine import Store
from legato.store.snapshots import save_snapshot
from legato.testing import VirtualDaemon
from polling import wait_for

START = datetime(2025, 3, 1, tzinfo=UTC)


def _every_minute() -> VirtualDaemon:
    @lg.task
    def job() -> None:
        return None

    every = lg.Pipeline("every", select="job", triggers=[lg.Every(60)])
    return VirtualDaemon([every], steps=[job], start=START)


def test_a_trigger_falling_due_during_a_job_is_evaluated_before_the_next_job() -> None:
    virtual = _every_minute()
    daemon = virtual.daemon
    virtual.tick()  # first sight: the schedule is due a minute from now
    seen: list[int] = []

    def slow_job(now: datetime, report: TickReport) -> None:  # a minute passes meanwhile
        virtual.clock.advance(timedelta(seconds=60))

    def next_job(now: datetime, report: TickReport) -> None:
        seen.append(len(list_ticks(virtual.store, "every#0:every")))

    daemon._freshness = slow_job  # type: ignore[method-assign]
    daemon._alerts = next_job  # type: ignore[method-assign]
    report = daemon.tick_once()

    assert seen == [1]  # the tick due during the slow job was made before the next job ran
    assert len(report.runs_requested) == 1
    tick = list_ticks(virtual.store, "every#0:every")[0]
    assert (
        tick.status == "requested" and tick.tick_key == (START + timedelta(minutes=1)).isoformat()
    )


def test_a_trigger_not_yet_due_waits_for_its_time() -> None:
    virtual = _every_minute()
    daemon = virtual.daemon
    virtual.tick()
    seen: list[int] = []

    def short_job(now: datetime, report: TickReport) -> None:  # still before the minute
        virtual.clock.advance(timedelta(seconds=59))

    def next_job(now: datetime, report: TickReport) -> None:
        seen.append(len(list_ticks(virtual.store, "every#0:every")))

    daemon._freshness = short_job  # type: ignore[method-assign]
    daemon._alerts = next_job  # type: ignore[method-assign]
    assert daemon.tick_once().runs_requested == []
    assert seen == [0]


class _SlowDefinitions(InProcessCode):
    """A code server that takes its time to describe the project: until ``answer`` is set."""

    def __init__(self, project: Project, store: Store) -> None:
        super().__init__(project, store)
        self.answer = threading.Event()
        self.asked = threading.Event()

    def snapshot(self) -> DefinitionsSnapshot:
        self.asked.set()
        self.answer.wait(60)
        return super().snapshot()


@pytest.fixture
def slow_code(tmp_path: Path) -> Iterator[tuple[_SlowDefinitions, Store]]:
    @lg.task
    def job() -> None:
        return None

    project = Project.of([job], [lg.Pipeline("every", select="job", triggers=[lg.Every(1)])])
    store = Store(f"sqlite:///{tmp_path / 'legato.db'}")
    code = _SlowDefinitions(project, store)
    snap = InProcessCode(project, store).snapshot()
    save_snapshot(store, snap)
    sync_triggers(store, snap)
    daemon = Daemon(store, code=code, project_dir=tmp_path, launch_runs=False, watch_files=False)
    stop = threading.Event()
    thread = threading.Thread(target=daemon.run_forever, args=(stop, 0.05))
    thread.start()
    try:
        yield code, store
    finally:
        code.answer.set()
        stop.set()
        daemon.wake()
        thread.join(60)
        store.dispose()


def test_schedules_tick_while_the_code_server_is_slow_to_describe_the_project(
    slow_code: tuple[_SlowDefinitions, Store],
) -> None:
    code, store = slow_code
    wait_for(code.asked.is_set, what="the daemon to ask for the definitions")

    def ticked() -> bool:
        return any(t.status == "requested" for t in list_ticks(store, "every#0:every"))

    wait_for(ticked, timeout=30, what="a tick while the definitions are still being described")
    assert not code.answer.is_set()
