"""Trigger evaluation: a schedule's tick can be claimed and planned a moment before it falls due,
and is committed when it does; nothing else is evaluated ahead of its time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

import legato as lg
from legato.automation import trigger_evaluation
from legato.automation.tick_report import TickReport
from legato.definitions.triggers import SensorResult, sensor
from legato.store.automation import list_ticks, set_enabled
from legato.store.runs import get_runs
from legato.testing import VirtualDaemon

START = datetime(2025, 3, 1, tzinfo=UTC)
DUE = START + timedelta(minutes=1)


@lg.task
def job() -> None:
    return None


def _virtual(*pipelines: lg.Pipeline) -> VirtualDaemon:
    virtual = VirtualDaemon(pipelines, steps=[job], start=START)
    virtual.tick()  # first sight: every trigger is due a minute from now
    return virtual


def test_a_prepared_tick_is_committed_when_due_without_planning_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    virtual = _virtual(lg.Pipeline("every", select="job", triggers=[lg.Every(60)]))
    triggers = virtual.daemon.triggers
    virtual.clock.set(DUE - timedelta(seconds=0.2))
    assert triggers.prepare(DUE, TickReport()) == 1
    assert triggers.prepared_for == DUE
    triggers.evaluate(virtual.clock.now(), TickReport())  # before its time: nothing is written
    assert list_ticks(virtual.store) == []

    def planned_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("the tick was planned again at its due time")

    monkeypatch.setattr(trigger_evaluation, "plan_schedule", planned_again)
    virtual.clock.set(DUE)
    report = TickReport()
    triggers.evaluate(DUE, report)

    [tick] = list_ticks(virtual.store)
    assert tick.status == "requested" and tick.tick_key == DUE.isoformat()
    [run] = get_runs(virtual.store, report.runs_requested)
    assert run.created_at == DUE.timestamp() and run.tags["legato/tick"] == DUE.isoformat()
    assert triggers.prepared_for is None


def test_only_schedules_are_prepared_ahead() -> None:
    asked: list[str | None] = []

    @sensor(interval=60)
    def watch(context):
        asked.append(context.cursor)
        return SensorResult(skip_reason="nothing new")

    virtual = _virtual(
        lg.Pipeline("every", select="job", triggers=[lg.Every(60)]),
        lg.Pipeline("watched", select="job", triggers=[watch]),
    )
    asked.clear()
    virtual.clock.set(DUE - timedelta(seconds=0.2))
    assert virtual.daemon.triggers.prepare(DUE, TickReport()) == 1  # the schedule alone
    assert asked == []  # a sensor runs user code: it is asked at its time, not before


def test_the_daemon_plans_the_ticks_due_in_a_moment_then_commits_them_at_their_time() -> None:
    virtual = _virtual(lg.Pipeline("every", select="job", triggers=[lg.Every(60)]))
    daemon = virtual.daemon
    virtual.clock.set(DUE - timedelta(seconds=0.1))
    daemon._pause(time.monotonic() + 0.5, 0.5)  # plans the tick, then waits for its time
    assert daemon.triggers.prepared_for == DUE
    assert list_ticks(virtual.store) == []
    assert daemon._holding()  # until then, no full iteration starts: it could hold them up

    virtual.clock.set(DUE)
    assert not daemon._holding()
    assert len(daemon.tick_once().runs_requested) == 1
    assert [t.tick_key for t in list_ticks(virtual.store)] == [DUE.isoformat()]


def test_a_trigger_switched_off_after_its_tick_was_planned_makes_no_tick() -> None:
    virtual = _virtual(lg.Pipeline("every", select="job", triggers=[lg.Every(60)]))
    triggers = virtual.daemon.triggers
    virtual.clock.set(DUE - timedelta(seconds=0.2))
    assert triggers.prepare(DUE, TickReport()) == 1
    set_enabled(virtual.store, "every#0:every", False)
    virtual.clock.set(DUE)
    report = TickReport()
    triggers.evaluate(DUE, report)
    assert report.runs_requested == [] and list_ticks(virtual.store) == []
