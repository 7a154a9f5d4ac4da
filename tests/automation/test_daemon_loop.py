"""The daemon's main loop: a trigger that falls due while the loop's other jobs run is evaluated
before the next job, not at the next iteration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import legato as lg
from legato.automation.tick_report import TickReport
from legato.store.automation import list_ticks
from legato.testing import VirtualDaemon

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
