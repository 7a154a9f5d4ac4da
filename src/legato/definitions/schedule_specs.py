"""Schedules rebuilt from their recorded description, in processes that never import the project
(the daemon and the web server)."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

import msgspec

from legato.definitions.catch_up import CatchUp
from legato.definitions.schedules import Cron, Every
from legato.definitions.trigger_specs import CronSpec, ScheduleSpec


def schedule_from_spec(spec: ScheduleSpec) -> Cron | Every:
    """The Cron or Every a snapshot's description records (for processes that never import the
    project: the daemon and the web server)."""
    c = spec.catch_up
    within = timedelta(seconds=c.within_seconds) if c.within_seconds else None
    catch_up = CatchUp(c.mode, within, timedelta(seconds=c.grace_seconds))
    if isinstance(spec, CronSpec):
        return Cron(
            spec.expr,
            spec.timezone,
            on_gap=spec.on_gap,
            on_repeat=spec.on_repeat,
            catch_up=catch_up,
            name=spec.name,
        )
    return Every(
        timedelta(seconds=spec.interval_seconds),
        start=datetime.fromisoformat(spec.start),
        timezone=spec.timezone,
        catch_up=catch_up,
        name=spec.name,
    )


def schedule_of(spec: ScheduleSpec) -> Cron | Every:
    """``schedule_from_spec``, once per distinct spec: parsing a cron expression costs more than
    evaluating it, and the daemon evaluates every schedule every few seconds."""
    return _cached(msgspec.json.encode(spec))


@lru_cache(maxsize=4096)
def _cached(encoded: bytes) -> Cron | Every:
    spec: ScheduleSpec = msgspec.json.decode(encoded, type=ScheduleSpec)
    return schedule_from_spec(spec)
