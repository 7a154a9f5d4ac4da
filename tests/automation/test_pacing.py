"""When the daemon's loop wakes: for its next full iteration, a freshness deadline or the
earliest trigger; a moment before schedules fall due, to plan their ticks; and then not for a
full iteration until they have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import legato as lg
from legato.automation.pacing import MIN_PAUSE, PREPARE_AHEAD, Pacing, Wake
from legato.definitions.triggers import SensorResult, sensor
from legato.testing import VirtualDaemon

START = datetime(2025, 3, 1, tzinfo=UTC)
DUE = START + timedelta(minutes=1)


@lg.task
def job() -> None:
    return None


@sensor(interval=50)
def watch(context):
    return SensorResult(skip_reason="nothing new")


def _pacing(*triggers: object) -> tuple[Pacing, VirtualDaemon]:
    """Every trigger seen at START, so each schedule falls due at DUE (a sensor every 50 s)."""
    pipes = [lg.Pipeline(f"p{i}", select="job", triggers=[t]) for i, t in enumerate(triggers)]
    virtual = VirtualDaemon(pipes, steps=[job], start=START)
    virtual.tick()
    return Pacing(virtual.store, virtual.clock), virtual


def _at(virtual: VirtualDaemon, before_due: float) -> None:
    virtual.clock.set(DUE - timedelta(seconds=before_due))


def test_far_from_a_schedule_the_loop_pauses_until_its_next_full_iteration() -> None:
    pacing, virtual = _pacing(lg.Every(60))
    _at(virtual, 5.0)
    assert pacing.next_wake(0.5, 0.5) == Wake(0.5)


def test_the_loop_wakes_a_moment_before_a_schedule_to_plan_its_ticks() -> None:
    pacing, virtual = _pacing(lg.Every(60))
    _at(virtual, 0.2)
    assert pacing.next_wake(0.5, 0.5) == Wake(0.0, prepare=DUE)
    _at(virtual, 0.7)  # instead of a full iteration 0.5 s from now, just before the tick
    wake = pacing.next_wake(0.5, 0.5)
    assert wake.prepare == DUE and wake.pause == pytest.approx(0.7 - PREPARE_AHEAD, abs=1e-3)


def test_with_ticks_planned_the_loop_waits_for_their_time_alone() -> None:
    pacing, virtual = _pacing(lg.Every(60))
    _at(virtual, 0.2)
    assert pacing.next_wake(0.0, 0.5, prepared=DUE).pause == pytest.approx(0.2, abs=1e-3)


def test_a_sensor_or_a_freshness_deadline_before_the_schedule_comes_first() -> None:
    pacing, virtual = _pacing(lg.Every(60), watch)
    virtual.clock.set(START + timedelta(seconds=49.9))  # the sensor is due at 50 s
    wake = pacing.next_wake(0.5, 0.5)
    assert wake.prepare is None and wake.pause == pytest.approx(0.1, abs=1e-3)

    pacing, virtual = _pacing(lg.Every(60))
    _at(virtual, 0.7)
    deadline = (DUE - timedelta(seconds=0.6)).timestamp()
    wake = pacing.next_wake(0.5, 0.5, deadline)
    assert wake.prepare is None and wake.pause == pytest.approx(0.1, abs=1e-3)


def test_a_schedule_already_due_is_not_planned_ahead() -> None:
    pacing, virtual = _pacing(lg.Every(60))
    virtual.clock.set(DUE + timedelta(seconds=1))  # held by another daemon, say
    assert pacing.next_wake(0.5, 0.5) == Wake(MIN_PAUSE)


def test_a_trigger_falls_due_after_the_last_look_only() -> None:
    pacing, virtual = _pacing(lg.Every(60))
    _at(virtual, 1.0)
    pacing.look()
    assert not pacing.fell_due()
    virtual.clock.set(DUE)
    assert pacing.fell_due()
    pacing.look()  # due already when looked at: being evaluated, or another daemon's
    assert not pacing.fell_due()


def test_with_ticks_planned_another_trigger_due_first_still_wakes_the_loop() -> None:
    pacing, virtual = _pacing(lg.Every(60), watch)
    virtual.clock.set(START + timedelta(seconds=49.9))  # the sensor is due at 50 s, before DUE
    assert pacing.next_wake(0.0, 0.5, prepared=DUE).pause == pytest.approx(0.1, abs=1e-3)
